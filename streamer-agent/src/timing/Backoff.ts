/**
 * Exponential backoff with full jitter, for anything the agent retries forever (the hub
 * connection, the ffmpeg process). Jitter keeps many agents from reconnecting in lockstep
 * after a hub restart.
 */
export interface BackoffOptions {
  /** First delay, in ms (default 500). */
  initialMs?: number;
  /** Upper bound of any delay, in ms (default 10 000). */
  maxMs?: number;
  /** Random source in [0, 1); injectable for tests (default `Math.random`). */
  random?: () => number;
}

export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 500;
    this.maxMs = options.maxMs ?? 10_000;
    this.random = options.random ?? Math.random;
  }

  /** The delay before the next attempt: between half and all of the exponential step. */
  next(): number {
    const step = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt += 1;
    return Math.round(step / 2 + (this.random() * step) / 2);
  }

  /** Call once an attempt succeeded, so the next failure starts small again. */
  reset(): void {
    this.attempt = 0;
  }
}
