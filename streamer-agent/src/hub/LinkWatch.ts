/**
 * Whether the hub is still there, judged from what arrives: the hub's engine.io ping (every
 * heartbeat interval, 1–25 s) and every message (each session's relayed pongs among them). When
 * nothing at all has arrived for `limitMs` (`hubSilenceLimitMs`: 7.5 s at the default 5 s
 * interval), the link is dead: a partition or a hung hub. socket.io's own verdict would come
 * only after its ping timeout, which the hub sets past the heartbeat timeout on purpose (21-25 s
 * at the defaults), and the agent would keep streaming into a session the hub ended long ago.
 *
 * This agent's own stalls are not the hub's silence: when the check fires more than
 * `PAUSE_TOLERANCE_MS` late (the process was stopped, or its event loop blocked), whatever the
 * hub sent meanwhile is still unread in the socket, so the verdict waits `RECHECK_MS` for it.
 */
import { systemClock, type Clock, type TimerHandle } from "@heartline/shared/timing";

export const PAUSE_TOLERANCE_MS = 500;
export const RECHECK_MS = 1_000;

export interface LinkWatchOptions {
  /** Called once per watch (until `start` again) when the hub has been silent for the limit. */
  onSilent: (silentForMs: number) => void;
  clock?: Clock;
}

export class LinkWatch {
  readonly #onSilent: (silentForMs: number) => void;
  readonly #clock: Clock;
  #limitMs: number | undefined;
  #lastHeardAt = 0;
  #timer: TimerHandle | undefined;
  #watching = false;

  constructor(options: LinkWatchOptions) {
    this.#onSilent = options.onSilent;
    this.#clock = options.clock ?? systemClock;
  }

  /** Watches from now (on connect); nothing is judged until `limit` is known. */
  start(): void {
    this.#watching = true;
    this.heard();
  }

  /** The hub's silence limit, from its `config` (it may change while connected). */
  limit(limitMs: number): void {
    this.#limitMs = limitMs;
    this.#arm(this.#lastHeardAt + limitMs);
  }

  /** Something arrived from the hub. */
  heard(): void {
    this.#lastHeardAt = this.#clock.now();
    // Re-armed lazily: the check looks at #lastHeardAt when it fires, so a busy link costs no
    // timer churn.
    if (this.#timer === undefined && this.#limitMs !== undefined)
      this.#arm(this.#lastHeardAt + this.#limitMs);
  }

  stop(): void {
    this.#watching = false;
    this.#clear();
  }

  #arm(at: number): void {
    this.#clear();
    if (!this.#watching) return;
    // Due no earlier than now: a check scheduled in the past is not this process running late.
    const dueAt = Math.max(at, this.#clock.now());
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#check(dueAt);
    }, dueAt - this.#clock.now());
  }

  #check(dueAt: number): void {
    const limitMs = this.#limitMs;
    if (!this.#watching || limitMs === undefined) return;
    const now = this.#clock.now();
    const silentForMs = now - this.#lastHeardAt;
    if (silentForMs < limitMs) {
      this.#arm(this.#lastHeardAt + limitMs);
      return;
    }
    if (now - dueAt > PAUSE_TOLERANCE_MS) {
      // This process was not running: read what the socket holds before judging the hub.
      this.#arm(now + RECHECK_MS);
      return;
    }
    this.#watching = false;
    this.#onSilent(silentForMs);
  }

  #clear(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
