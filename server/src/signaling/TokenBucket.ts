/**
 * A token bucket: `capacity` messages at once, refilled at `ratePerSecond`. Absorbs the burst of
 * ICE candidates at the start of a session while capping what one socket can make the hub do.
 * O(1) and allocation-free per message.
 */
export class TokenBucket {
  #tokens: number;
  #last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly capacity: number,
    private readonly now: () => number,
  ) {
    this.#tokens = capacity;
    this.#last = now();
  }

  /** Takes one token; false when the bucket is empty (the message should be refused). */
  take(): boolean {
    if (this.tokens() < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Tokens available now (refilled up to the capacity), without taking one. */
  tokens(): number {
    const now = this.now();
    this.#tokens = Math.min(this.capacity, this.#tokens + ((now - this.#last) / 1000) * this.ratePerSecond);
    this.#last = now;
    return this.#tokens;
  }

  /** Whether the bucket is full again (nothing to remember about its owner). */
  get full(): boolean {
    return this.tokens() >= this.capacity;
  }
}
