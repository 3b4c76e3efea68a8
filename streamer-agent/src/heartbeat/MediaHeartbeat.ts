/**
 * The second heartbeat of a session, over the media path itself: a ping on the `heartline`
 * data channel every interval, answered by the player at once. Signaling can be healthy while
 * the peer-to-peer path is dead (a NAT rebinding, a firewall change); only this notices.
 *
 * The deadline runs from the channel opening and restarts with every pong, and with any other
 * sign that the player's end of the path works (`pathHeard`: RTCP reports about our video from
 * its media stack): `timeoutMs` with neither calls `onTimeout` once. Pongs alone are not enough on
 * a lossy link: the channel is reliable and ordered, so one lost packet holds every later pong
 * behind SCTP's retransmission timer, which doubles with each loss; reports arrive every second
 * or so on their own and a lost one is simply replaced by the next. Like the Pinger, `time` is this agent's monotonic clock, echoed
 * back, so the RTT never compares two machines' clocks.
 *
 * It condemns only the media path: when signaling is silent too (`signalingHealthy` false: a
 * frozen tab, a dead player), the verdict is the hub's heartbeat timeout, not `media-timeout`,
 * so the deadline is checked again an interval later instead.
 */
import { MediaPongSchema, describeIssue, type MediaPing } from "@heartline/shared";
import { systemClock, type Clock, type TimerHandle } from "@heartline/shared/timing";
import { roundRtt } from "./roundRtt.js";

export interface MediaHeartbeatSettings {
  /** How often to ping (the hub's `heartbeat.intervalMs`). */
  intervalMs: number;
  /** Silence longer than this is a dead media path (the hub's `heartbeat.timeoutMs`). */
  timeoutMs: number;
}

export interface MediaHeartbeatOptions {
  settings: MediaHeartbeatSettings;
  /** Sends one JSON text message on the data channel. */
  send: (text: string) => void;
  /** Called once when `timeoutMs` pass without a pong. */
  onTimeout: (silentForMs: number) => void;
  /** Called with each pong's round-trip time, in ms. */
  onRtt?: (rttMs: number) => void;
  /** Called with a short description of each invalid inbound message. */
  onInvalid?: (problem: string) => void;
  /** The session's last signaling RTT, shown to the player beside the media RTT. */
  signalingRttMs?: () => number | undefined;
  /** Whether signaling pongs are arriving on time; without it, every lapse counts. */
  signalingHealthy?: () => boolean;
  clock?: Clock;
}

export class MediaHeartbeat {
  private readonly options: MediaHeartbeatOptions;
  private readonly clock: Clock;
  private settings: MediaHeartbeatSettings;
  private pingTimer: TimerHandle | undefined;
  private deadlineTimer: TimerHandle | undefined;
  private lastHeardAt = 0;
  private running = false;
  private expired = false;
  private rttValue: number | undefined;

  constructor(options: MediaHeartbeatOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.settings = options.settings;
  }

  /** The last measured media-path RTT, once a pong arrived. */
  get rttMs(): number | undefined {
    return this.rttValue;
  }

  /** The channel is open: ping at once, then every interval, and start the deadline. */
  start(): void {
    if (this.running || this.expired) return;
    this.running = true;
    this.lastHeardAt = this.clock.now();
    this.ping();
    this.schedulePings();
    this.scheduleDeadline();
  }

  /** A live config change: the new cadence and timeout apply at once. */
  setSettings(settings: MediaHeartbeatSettings): void {
    const changed =
      settings.intervalMs !== this.settings.intervalMs || settings.timeoutMs !== this.settings.timeoutMs;
    this.settings = settings;
    if (!changed || !this.running) return;
    this.schedulePings();
    this.scheduleDeadline();
  }

  /** One inbound data-channel message. Returns the RTT of a valid pong, undefined otherwise. */
  handleMessage(data: string | Buffer): number | undefined {
    if (!this.running) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(typeof data === "string" ? data : data.toString("utf8"));
    } catch {
      this.options.onInvalid?.("not JSON");
      return undefined;
    }
    const result = MediaPongSchema.safeParse(parsed);
    if (!result.success) {
      this.options.onInvalid?.(describeIssue(result.error));
      return undefined;
    }
    const now = this.clock.now();
    const rttMs = roundRtt(now - result.data.time);
    // Not a time this clock produced: ignore it rather than trust it as proof of life.
    if (rttMs < 0) {
      this.options.onInvalid?.("pong time is in the future");
      return undefined;
    }
    this.lastHeardAt = now;
    this.rttValue = rttMs;
    this.scheduleDeadline();
    this.options.onRtt?.(rttMs);
    return rttMs;
  }

  /**
   * The player's media stack reported on our stream (RTCP): the path works both ways, whether or
   * not a pong got through. Moves the deadline without measuring an RTT; called per packet, so
   * it only notes the time (the deadline re-reads it when it fires).
   */
  pathHeard(): void {
    if (this.running) this.lastHeardAt = this.clock.now();
  }

  /** One ping now, outside the cadence (a media check asks the player to answer). */
  pingNow(): void {
    if (this.running) this.ping();
  }

  /** Stops pinging and watching. Idempotent. */
  stop(): void {
    this.running = false;
    if (this.pingTimer !== undefined) this.clock.clearInterval(this.pingTimer);
    if (this.deadlineTimer !== undefined) this.clock.clearTimeout(this.deadlineTimer);
    this.pingTimer = undefined;
    this.deadlineTimer = undefined;
  }

  private ping(): void {
    const signalingRttMs = this.options.signalingRttMs?.();
    const ping: MediaPing = {
      type: "ping",
      time: this.clock.now(),
      ...(this.rttValue !== undefined ? { rttMs: this.rttValue } : {}),
      ...(signalingRttMs !== undefined ? { signalingRttMs } : {}),
    };
    this.options.send(JSON.stringify(ping));
  }

  private schedulePings(): void {
    if (this.pingTimer !== undefined) this.clock.clearInterval(this.pingTimer);
    this.pingTimer = this.clock.setInterval(() => {
      this.ping();
    }, this.settings.intervalMs);
  }

  /** The deadline counts from the last pong (or the opening), also after a timeout change. */
  private scheduleDeadline(): void {
    if (this.deadlineTimer !== undefined) this.clock.clearTimeout(this.deadlineTimer);
    const remainingMs = Math.max(0, this.lastHeardAt + this.settings.timeoutMs - this.clock.now());
    this.deadlineTimer = this.clock.setTimeout(() => {
      this.deadlineTimer = undefined;
      if (this.clock.now() - this.lastHeardAt < this.settings.timeoutMs) {
        this.scheduleDeadline(); // heard since (pathHeard)
        return;
      }
      if (this.options.signalingHealthy && !this.options.signalingHealthy()) {
        this.deadlineTimer = this.clock.setTimeout(() => {
          this.scheduleDeadline();
        }, this.settings.intervalMs);
        return;
      }
      const silentForMs = this.clock.now() - this.lastHeardAt;
      this.expired = true;
      this.stop();
      this.options.onTimeout(silentForMs);
    }, remainingMs);
  }
}
