export interface ReconnectBackoffOptions {
  /** Delay before the first retry after the hub went away. Default 1000 ms. */
  baseMs?: number;
  /** Upper bound of the delay. Default 20000 ms. */
  maxMs?: number;
  /**
   * Spread of each delay, as a fraction of it (0.2: ±20 %), so players that lost the same hub
   * do not all come back in the same millisecond. Default 0.2.
   */
  jitter?: number;
  /** Source of randomness in [0, 1). Default `Math.random`. */
  random?: () => number;
}

/**
 * How long to wait before the next attempt to reach the hub: doubles after each failure up to
 * `maxMs`, back to `baseMs` once connected (`reset()`).
 */
export class ReconnectBackoff {
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly jitter: number;
  private readonly random: () => number;
  private failures = 0;

  constructor(options: ReconnectBackoffOptions = {}) {
    this.baseMs = options.baseMs ?? 1000;
    this.maxMs = options.maxMs ?? 20_000;
    this.jitter = options.jitter ?? 0.2;
    this.random = options.random ?? Math.random;
  }

  /** Records a failed (or lost) connection and returns the delay before the next attempt. */
  next(): number {
    const delay = Math.min(this.maxMs, this.baseMs * 2 ** this.failures);
    this.failures += 1;
    const spread = delay * this.jitter * (2 * this.random() - 1);
    return Math.round(Math.min(this.maxMs, Math.max(0, delay + spread)));
  }

  reset(): void {
    this.failures = 0;
  }
}
