/**
 * Exponential backoff with jitter, for anything retried until it works (the agent's hub
 * connection and ffmpeg, the player's hub connection and resubscribes). Jitter keeps many clients
 * that lost the same hub from coming back in lockstep.
 */
export interface BackoffOptions {
  /** The first step, in ms (default 500). */
  initialMs?: number;
  /** Upper bound of any step and any delay, in ms (default 10 000). */
  maxMs?: number;
  /** Each step is the previous one times this (default 2). */
  factor?: number;
  /**
   * The range each delay is drawn from, as fractions of the step: `[0, 1]` is full jitter
   * (default), `[0.5, 1]` half to all of it, `[0.8, 1.2]` ±20 %, `[1, 1]` none.
   */
  jitter?: readonly [low: number, high: number];
  /** Random source in [0, 1); injectable for tests (default `Math.random`). */
  random?: () => number;
}

export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #factor: number;
  readonly #jitter: readonly [number, number];
  readonly #random: () => number;
  /** The step of the next delay; stops growing at `maxMs`. */
  #step: number;

  constructor(options: BackoffOptions = {}) {
    this.#initialMs = options.initialMs ?? 500;
    this.#maxMs = options.maxMs ?? 10_000;
    this.#factor = options.factor ?? 2;
    this.#jitter = options.jitter ?? [0, 1];
    this.#random = options.random ?? Math.random;
    if (!(this.#initialMs >= 0 && this.#maxMs >= 0 && this.#factor >= 1)) {
      throw new RangeError("Backoff: initialMs and maxMs must be >= 0 and factor >= 1");
    }
    if (!(this.#jitter[0] >= 0 && this.#jitter[0] <= this.#jitter[1])) {
      throw new RangeError("Backoff: jitter must be [low, high] with 0 <= low <= high");
    }
    this.#step = Math.min(this.#maxMs, this.#initialMs);
  }

  /** The delay before the next attempt, in whole ms; each call counts one more failure. */
  next(): number {
    const step = this.#step;
    this.#step = Math.min(this.#maxMs, step * this.#factor);
    const [low, high] = this.#jitter;
    const delay = step * (low + (high - low) * this.#random());
    return Math.round(Math.min(this.#maxMs, delay));
  }

  /** Call once an attempt succeeded (or ran long enough), so the next failure starts small again. */
  reset(): void {
    this.#step = Math.min(this.#maxMs, this.#initialMs);
  }
}
