import { describe, expect, it } from "vitest";
import { TokenBucket } from "./TokenBucket.js";

describe("TokenBucket", () => {
  it("allows a burst up to its capacity, then refills at its rate", () => {
    let now = 0;
    const bucket = new TokenBucket(10, 5, () => now);
    expect(Array.from({ length: 6 }, () => bucket.take())).toEqual([true, true, true, true, true, false]);
    now += 100; // one token at 10/s
    expect(bucket.take()).toBe(true);
    expect(bucket.take()).toBe(false);
    now += 10_000; // never more than the capacity
    expect(Array.from({ length: 6 }, () => bucket.take()).filter(Boolean)).toHaveLength(5);
  });

  it("sustains exactly its rate over time", () => {
    let now = 0;
    const bucket = new TokenBucket(50, 1, () => now);
    let allowed = 0;
    for (let i = 0; i < 10_000; i++) {
      now += 1; // a message every millisecond for 10 s
      if (bucket.take()) allowed++;
    }
    expect(allowed).toBeGreaterThanOrEqual(499);
    expect(allowed).toBeLessThanOrEqual(501);
  });
});
