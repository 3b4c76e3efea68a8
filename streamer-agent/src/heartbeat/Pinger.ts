/**
 * Drives the heartbeat of every session: the streamer pings, the player answers with a pong,
 * and the hub ends a session whose pings or pongs stop. The interval is the hub's
 * `config.heartbeat.intervalMs` and nothing else, so it is set in exactly one place.
 *
 * `time` in a ping is this agent's monotonic clock; the pong echoes it, so RTT = now - time
 * never compares two machines' clocks.
 */
import type { PingMessage, PongMessage, SendStats } from "@heartline/shared";
import { systemClock, type Clock, type TimerHandle } from "@heartline/shared/timing";
import { roundRtt } from "./roundRtt.js";

/** What a ping carries besides the session's own signaling RTT, read at the moment it is sent. */
export interface PingExtras {
  mediaRttMs?: number | undefined;
  stats?: SendStats | undefined;
}

export interface PingerOptions {
  /** Sends a ping to the hub. */
  send: (message: PingMessage) => void;
  /** Called with each pong's round-trip time, in ms, and the pong itself. */
  onRtt?: (sessionId: string, rttMs: number, pong: PongMessage) => void;
  /** The session's media-path RTT and the encoder's send stats, once known. */
  extras?: (sessionId: string) => PingExtras;
  clock?: Clock;
}

export class Pinger {
  private readonly send: (message: PingMessage) => void;
  private readonly onRtt: PingerOptions["onRtt"];
  private readonly extras: PingerOptions["extras"];
  private readonly clock: Clock;
  private intervalMs: number | undefined;
  private paused = false;
  /** One timer per session; undefined while not pinging (before the first config, or paused). */
  private readonly timers = new Map<string, TimerHandle | undefined>();
  private readonly rtts = new Map<string, number>();
  /** Clock time of each session's last pong. */
  private readonly pongAt = new Map<string, number>();

  constructor(options: PingerOptions) {
    this.send = options.send;
    this.onRtt = options.onRtt;
    this.extras = options.extras;
    this.clock = options.clock ?? systemClock;
  }

  /** Sessions being pinged. */
  get sessionIds(): string[] {
    return [...this.timers.keys()];
  }

  /** The session's last measured signaling RTT, once a pong arrived. */
  rttOf(sessionId: string): number | undefined {
    return this.rtts.get(sessionId);
  }

  /** Whether a pong for the session arrived within the last `withinMs`. */
  heardWithin(sessionId: string, withinMs: number): boolean {
    const at = this.pongAt.get(sessionId);
    return at !== undefined && this.clock.now() - at <= withinMs;
  }

  /**
   * Applies the hub's interval. A change reschedules every session; sessions added before the
   * first config start pinging now.
   */
  setInterval(intervalMs: number): void {
    if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
      throw new RangeError(`heartbeat interval must be a positive number of ms, got ${intervalMs}`);
    }
    if (intervalMs === this.intervalMs) return;
    this.intervalMs = intervalMs;
    if (this.paused) return;
    for (const [sessionId, timer] of this.timers) {
      if (timer === undefined) this.ping(sessionId); // Joined before the first config: never pinged yet.
      this.schedule(sessionId);
    }
  }

  /** Pings the session at once, then every interval, until `remove`. */
  add(sessionId: string): void {
    if (this.timers.has(sessionId)) return;
    this.timers.set(sessionId, undefined);
    if (this.intervalMs !== undefined && !this.paused) {
      this.ping(sessionId);
      this.schedule(sessionId);
    }
  }

  /**
   * Stops every session's pings but keeps the sessions: the hub connection is down, and a ping
   * queued now would reach the hub late, after a reconnect, as a false sign of life.
   */
  pause(): void {
    this.paused = true;
    for (const [sessionId, timer] of this.timers) {
      if (timer !== undefined) this.clock.clearInterval(timer);
      this.timers.set(sessionId, undefined);
    }
  }

  /** Pings every session at once again, then every interval. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.intervalMs === undefined) return;
    for (const sessionId of this.timers.keys()) {
      this.ping(sessionId);
      this.schedule(sessionId);
    }
  }

  /** Stops pinging the session. Idempotent. */
  remove(sessionId: string): void {
    const timer = this.timers.get(sessionId);
    if (timer !== undefined) this.clock.clearInterval(timer);
    this.timers.delete(sessionId);
    this.rtts.delete(sessionId);
    this.pongAt.delete(sessionId);
  }

  /** Stops pinging every session. */
  clear(): void {
    for (const sessionId of [...this.timers.keys()]) this.remove(sessionId);
  }

  /** Returns the round-trip time, or undefined for a pong of a session no longer pinged. */
  handlePong(pong: PongMessage): number | undefined {
    if (!this.timers.has(pong.sessionId)) return undefined;
    const rttMs = roundRtt(this.clock.now() - pong.time);
    if (rttMs < 0) return undefined; // Not a time this clock produced: ignore rather than report nonsense.
    this.rtts.set(pong.sessionId, rttMs);
    this.pongAt.set(pong.sessionId, this.clock.now());
    this.onRtt?.(pong.sessionId, rttMs, pong);
    return rttMs;
  }

  private schedule(sessionId: string): void {
    const previous = this.timers.get(sessionId);
    if (previous !== undefined) this.clock.clearInterval(previous);
    if (this.intervalMs === undefined) return;
    this.timers.set(
      sessionId,
      this.clock.setInterval(() => {
        this.ping(sessionId);
      }, this.intervalMs),
    );
  }

  private ping(sessionId: string): void {
    const rttMs = this.rtts.get(sessionId);
    const extras = this.extras?.(sessionId) ?? {};
    // Unknown figures are left out, not sent as null: the hub relays them and players show them.
    this.send({
      type: "ping",
      sessionId,
      time: this.clock.now(),
      ...(rttMs !== undefined ? { rttMs } : {}),
      ...(extras.mediaRttMs !== undefined ? { mediaRttMs: extras.mediaRttMs } : {}),
      ...(extras.stats !== undefined ? { stats: extras.stats } : {}),
    });
  }
}
