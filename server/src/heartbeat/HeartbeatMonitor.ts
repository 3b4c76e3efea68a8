/**
 * Deadlines for both ends of every session, on an injected clock. Knows nothing of sockets:
 * the signaling layer reports traffic, and the monitor tells its listener when an end turns
 * `stale` (missed a beat), `lapsed` (silent past the timeout) or `fresh` again.
 *
 * Cost: a beat is O(1) and touches no timer (it stores a timestamp). Each session owns one
 * timer, armed for its earliest threshold; when it fires early (traffic moved the threshold)
 * it re-arms for what is left. So timers fire about once per interval per session, not per
 * beat, and there is never more than one timer per session.
 *
 * Blame: the streamer drives the heartbeat, so its silence always counts. The player can only
 * answer pings it receives, so its silence counts only while it owes an answer (a ping was
 * relayed to it after its last message). When both are silent the streamer is blamed. A player
 * that starts owing after a quiet spell (the streamer sent no ping for a while) gets at least
 * `answerGraceMs` to answer the ping that ended it.
 *
 * An end held by another hub node (multi-node) is that node's to judge: a session tracked with
 * `{ streamerElsewhere: true }` never blames its streamer here, and a player elsewhere is never
 * judged because pings are not relayed to it from here (`pingRelayed` is not called).
 *
 * A lapse is reported once per end; the monitor keeps watching until `untrack`, so a caller that
 * does not tear down (heartbeat.enforce=false) still hears when the end comes back.
 */
import type { Clock, TimerHandle } from "@heartline/shared/timing";

export type End = "streamer" | "player";

/** fresh: on time. stale: missed a beat. lapsed: silent past the timeout. */
export type EndHealth = "fresh" | "stale" | "lapsed";

export interface HeartbeatTimings {
  /** Silence longer than this ends the session. */
  timeoutMs: number;
  /** Silence longer than this marks the end stale (a missed beat); ignored if >= timeoutMs. */
  staleAfterMs: number;
  /** The least time a player gets to answer the first ping after a gap in pings. */
  answerGraceMs: number;
}

export interface HeartbeatListener {
  stale(sessionId: string, end: End): void;
  /** An end that was stale or lapsed was heard from again. */
  fresh(sessionId: string, end: End): void;
  lapsed(sessionId: string, end: End): void;
}

interface EndClock {
  /** Clock time of the last message from this end for this session. */
  at: number;
  health: EndHealth;
  /**
   * Not stale before this clock time: a player that starts owing after a quiet spell has
   * answerGraceMs to answer before it is even late (-Infinity: no such floor).
   */
  staleNotBefore: number;
}

interface Entry {
  readonly id: string;
  readonly streamer: EndClock;
  readonly player: EndClock;
  /** A ping was relayed to the player after its last message. */
  playerOwes: boolean;
  /** The streamer is judged by another hub node, not here. */
  readonly streamerElsewhere: boolean;
  timer: TimerHandle | undefined;
  /** Clock time the timer fires at (Infinity when none is armed). */
  firesAt: number;
}

export class HeartbeatMonitor {
  readonly #entries = new Map<string, Entry>();
  readonly #clock: Clock;
  readonly #listener: HeartbeatListener;
  #timings: HeartbeatTimings;

  constructor(options: { timings: HeartbeatTimings; clock: Clock; listener: HeartbeatListener }) {
    this.#timings = { ...options.timings };
    this.#clock = options.clock;
    this.#listener = options.listener;
  }

  get timings(): Readonly<HeartbeatTimings> {
    return this.#timings;
  }

  /** Number of sessions under watch. */
  get size(): number {
    return this.#entries.size;
  }

  /** New timings apply to every session at once (re-arms every timer: O(sessions), once). */
  reconfigure(timings: HeartbeatTimings): void {
    this.#timings = { ...timings };
    const now = this.#clock.now();
    for (const entry of this.#entries.values()) {
      this.#disarm(entry);
      this.#evaluate(entry, now);
    }
  }

  /**
   * Starts watching a session; both ends' silence is counted from now.
   * @param options.streamerElsewhere the streamer is on another hub node, which judges it.
   */
  track(sessionId: string, options: { streamerElsewhere?: boolean } = {}): void {
    if (this.#entries.has(sessionId)) return;
    const now = this.#clock.now();
    const entry: Entry = {
      id: sessionId,
      streamer: { at: now, health: "fresh", staleNotBefore: Number.NEGATIVE_INFINITY },
      player: { at: now, health: "fresh", staleNotBefore: Number.NEGATIVE_INFINITY },
      playerOwes: false,
      streamerElsewhere: options.streamerElsewhere ?? false,
      timer: undefined,
      firesAt: Number.POSITIVE_INFINITY,
    };
    this.#entries.set(sessionId, entry);
    this.#arm(entry, now);
  }

  /** Stops watching; idempotent. */
  untrack(sessionId: string): void {
    const entry = this.#entries.get(sessionId);
    if (!entry) return;
    this.#disarm(entry);
    this.#entries.delete(sessionId);
  }

  /** Any valid message from `end` for this session proves that end alive. */
  heard(sessionId: string, end: End): void {
    const entry = this.#entries.get(sessionId);
    if (!entry) return;
    const clock = entry[end];
    clock.at = this.#clock.now();
    clock.staleNotBefore = Number.NEGATIVE_INFINITY;
    if (end === "player") entry.playerOwes = false;
    if (clock.health !== "fresh") {
      // Rare path (an end coming back): its next threshold is new, so re-arm from scratch.
      clock.health = "fresh";
      this.#disarm(entry);
      this.#arm(entry, clock.at);
      this.#listener.fresh(sessionId, end);
    }
  }

  /** A ping was relayed to the player: from now on its silence counts against it. */
  pingRelayed(sessionId: string): void {
    const entry = this.#entries.get(sessionId);
    if (!entry || entry.playerOwes) return;
    entry.playerOwes = true;
    // In steady state the player answered the previous ping an interval ago and nothing changes.
    // After a quiet spell it had nothing to answer: it still gets answerGraceMs for this ping.
    const now = this.#clock.now();
    const { timeoutMs, answerGraceMs } = this.#timings;
    const graced = now - timeoutMs + answerGraceMs;
    if (graced > entry.player.at) {
      // After a quiet spell its old silence would make it stale at once, then fresh again when
      // it answers a millisecond later: it is not late before its grace is over either.
      entry.player.at = graced;
      entry.player.staleNotBefore = now + answerGraceMs;
    }
    // The player's next threshold may come before the armed timer; keep teardown on time.
    const next = this.#nextThreshold(entry.player);
    if (next < entry.firesAt - 1) {
      this.#disarm(entry);
      this.#arm(entry, now);
    }
  }

  /** The health of one end of a session (undefined when the session is not watched). */
  health(sessionId: string, end: End): EndHealth | undefined {
    return this.#entries.get(sessionId)?.[end].health;
  }

  /** Stops every timer; the monitor is empty afterwards. */
  clear(): void {
    for (const entry of this.#entries.values()) this.#disarm(entry);
    this.#entries.clear();
  }

  /** When this end crosses its next threshold (Infinity: nothing pending). */
  #nextThreshold(clock: EndClock): number {
    const { timeoutMs, staleAfterMs } = this.#timings;
    if (clock.health === "lapsed") return Number.POSITIVE_INFINITY;
    if (clock.health === "fresh" && staleAfterMs < timeoutMs) {
      return Math.min(Math.max(clock.at + staleAfterMs, clock.staleNotBefore), clock.at + timeoutMs);
    }
    return clock.at + timeoutMs;
  }

  #arm(entry: Entry, now: number): void {
    const streamerNext = entry.streamerElsewhere
      ? Number.POSITIVE_INFINITY
      : this.#nextThreshold(entry.streamer);
    const playerNext = entry.playerOwes ? this.#nextThreshold(entry.player) : Number.POSITIVE_INFINITY;
    const threshold = Math.min(streamerNext, playerNext);
    if (threshold === Number.POSITIVE_INFINITY) return;
    // "Longer than": fire one millisecond past the threshold.
    const delay = Math.max(0, Math.floor(threshold - now)) + 1;
    entry.firesAt = now + delay;
    entry.timer = this.#clock.setTimeout(() => {
      entry.timer = undefined;
      entry.firesAt = Number.POSITIVE_INFINITY;
      if (this.#entries.get(entry.id) === entry) this.#evaluate(entry, this.#clock.now());
    }, delay);
  }

  #disarm(entry: Entry): void {
    if (entry.timer !== undefined) this.#clock.clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.firesAt = Number.POSITIVE_INFINITY;
  }

  /** Moves each end to the health its silence calls for, reports changes, re-arms. */
  #evaluate(entry: Entry, now: number): void {
    const streamerChange = entry.streamerElsewhere ? undefined : this.#advance(entry.streamer, now);
    // While the streamer is past its timeout the player is never blamed for the silence.
    const playerChange =
      entry.playerOwes && entry.streamer.health !== "lapsed" ? this.#advance(entry.player, now) : undefined;
    this.#arm(entry, now);
    if (streamerChange) this.#listener[streamerChange](entry.id, "streamer");
    if (playerChange && this.#entries.get(entry.id) === entry)
      this.#listener[playerChange](entry.id, "player");
  }

  #advance(clock: EndClock, now: number): "stale" | "lapsed" | undefined {
    const silent = now - clock.at;
    const { timeoutMs, staleAfterMs } = this.#timings;
    if (silent > timeoutMs && clock.health !== "lapsed") {
      clock.health = "lapsed";
      return "lapsed";
    }
    if (
      silent > staleAfterMs &&
      staleAfterMs < timeoutMs &&
      clock.health === "fresh" &&
      now > clock.staleNotBefore
    ) {
      clock.health = "stale";
      return "stale";
    }
    return undefined;
  }
}
