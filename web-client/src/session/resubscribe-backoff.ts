export interface ResubscribeBackoffOptions {
  /** Delay before resubscribing after a session that ran well, or after the first failure. Default 1000 ms. */
  baseMs?: number;
  /** Upper bound of the delay. Default 30000 ms. */
  maxMs?: number;
  /** A session live at least this long counts as healthy and resets the backoff. Default 10000 ms. */
  stableMs?: number;
}

/**
 * How long to wait before resubscribing. Sessions that end soon after starting (or never get
 * live) double the delay, so a streamer that keeps failing is not hammered in a hot loop.
 */
export class ResubscribeBackoff {
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly stableMs: number;
  private failures = 0;

  constructor(options: ResubscribeBackoffOptions = {}) {
    this.baseMs = options.baseMs ?? 1000;
    this.maxMs = options.maxMs ?? 30_000;
    this.stableMs = options.stableMs ?? 10_000;
  }

  /**
   * Records an ended attempt and returns the delay before the next one.
   * @param liveMs how long the session was live, or null if it never got live.
   */
  attemptEnded(liveMs: number | null): number {
    if (liveMs !== null && liveMs >= this.stableMs) this.failures = 0;
    const delay = Math.min(this.maxMs, this.baseMs * 2 ** this.failures);
    this.failures += 1;
    return delay;
  }

  reset(): void {
    this.failures = 0;
  }
}
