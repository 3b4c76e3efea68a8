/**
 * Deadlines for both ends of every session, on an injected clock. Knows nothing of sockets:
 * the signaling layer reports traffic, and the monitor calls `onLapse` once when an end has
 * been silent for longer than `timeoutMs`.
 *
 * Cost: a beat is O(1) and touches no timer (it only stores a timestamp). Each session owns
 * one timer, armed for its earliest deadline; when it fires early (traffic moved the deadline)
 * it re-arms for what is left. So timers fire about once per timeout per session, not per beat.
 *
 * Blame: the streamer drives the heartbeat, so it lapses when it has been silent too long. The
 * player can only answer pings it receives, so it lapses only while it owes an answer (a ping
 * was relayed to it since its last message). When both are silent the streamer is blamed. A
 * player that starts owing after a long quiet spell (the streamer sent no ping for a while) gets
 * at least `answerGraceMs` to answer the ping that ended it.
 */
import type { Clock, TimerHandle } from "./clock.js";

export type End = "streamer" | "player";

export type LapseListener = (sessionId: string, end: End) => void;

interface Deadlines {
  streamerAt: number;
  playerAt: number;
  /** A ping was relayed to the player after its last message. */
  playerOwes: boolean;
  timer: TimerHandle | undefined;
  /** When the timer will fire (clock time). */
  firesAt: number;
}

export class HeartbeatMonitor {
  readonly #entries = new Map<string, Deadlines>();
  readonly #clock: Clock;
  readonly #onLapse: LapseListener;
  #timeoutMs: number;
  #answerGraceMs: number;

  constructor(options: { timeoutMs: number; answerGraceMs: number; clock: Clock; onLapse: LapseListener }) {
    this.#timeoutMs = options.timeoutMs;
    this.#answerGraceMs = options.answerGraceMs;
    this.#clock = options.clock;
    this.#onLapse = options.onLapse;
  }

  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  /** Number of sessions under watch. */
  get size(): number {
    return this.#entries.size;
  }

  /** Starts watching a session; both ends' silence is counted from now. */
  track(sessionId: string): void {
    if (this.#entries.has(sessionId)) return;
    const now = this.#clock.now();
    const entry: Deadlines = {
      streamerAt: now,
      playerAt: now,
      playerOwes: false,
      timer: undefined,
      firesAt: 0,
    };
    this.#entries.set(sessionId, entry);
    this.#arm(sessionId, entry, now);
  }

  /** Stops watching; idempotent. */
  untrack(sessionId: string): void {
    const entry = this.#entries.get(sessionId);
    if (!entry) return;
    if (entry.timer !== undefined) this.#clock.clearTimeout(entry.timer);
    this.#entries.delete(sessionId);
  }

  /** Any valid message from `end` for this session proves that end alive. */
  heard(sessionId: string, end: End): void {
    const entry = this.#entries.get(sessionId);
    if (!entry) return;
    if (end === "streamer") {
      entry.streamerAt = this.#clock.now();
    } else {
      entry.playerAt = this.#clock.now();
      entry.playerOwes = false;
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
    entry.playerAt = Math.max(entry.playerAt, now - this.#timeoutMs + this.#answerGraceMs);
    // The player's deadline may now come before the armed timer (the streamer sent other
    // traffic after the player's last message); move the timer so teardown stays on time.
    if (entry.playerAt + this.#timeoutMs < entry.firesAt - 1) {
      if (entry.timer !== undefined) this.#clock.clearTimeout(entry.timer);
      this.#arm(sessionId, entry, now);
    }
  }

  /** Which end, if any, is past its deadline now. */
  lapsedEnd(sessionId: string): End | undefined {
    const entry = this.#entries.get(sessionId);
    return entry ? this.#lapsed(entry, this.#clock.now()) : undefined;
  }

  /** Stops every timer; the monitor is empty afterwards. */
  clear(): void {
    for (const id of [...this.#entries.keys()]) this.untrack(id);
  }

  #lapsed(entry: Deadlines, now: number): End | undefined {
    if (now - entry.streamerAt > this.#timeoutMs) return "streamer";
    if (entry.playerOwes && now - entry.playerAt > this.#timeoutMs) return "player";
    return undefined;
  }

  #arm(sessionId: string, entry: Deadlines, now: number): void {
    const streamerDeadline = entry.streamerAt + this.#timeoutMs;
    const deadline = entry.playerOwes
      ? Math.min(streamerDeadline, entry.playerAt + this.#timeoutMs)
      : streamerDeadline;
    // "Longer than timeoutMs": fire one millisecond past the deadline.
    const delay = Math.max(0, Math.floor(deadline - now)) + 1;
    entry.firesAt = now + delay;
    entry.timer = this.#clock.setTimeout(() => {
      this.#check(sessionId);
    }, delay);
  }

  #check(sessionId: string): void {
    const entry = this.#entries.get(sessionId);
    if (!entry) return;
    entry.timer = undefined;
    const now = this.#clock.now();
    const end = this.#lapsed(entry, now);
    if (end === undefined) {
      this.#arm(sessionId, entry, now);
      return;
    }
    this.untrack(sessionId);
    this.#onLapse(sessionId, end);
  }
}
