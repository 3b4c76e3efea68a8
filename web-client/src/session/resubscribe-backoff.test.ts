import { describe, expect, it } from "vitest";
import { ResubscribeBackoff } from "./resubscribe-backoff.js";

describe("ResubscribeBackoff", () => {
  it("doubles the delay while sessions keep failing, up to the cap", () => {
    const backoff = new ResubscribeBackoff({ baseMs: 1000, maxMs: 5000, stableMs: 10_000 });
    const delays = [null, 200, null, 9_999, null].map((liveMs) => backoff.attemptEnded(liveMs));
    expect(delays).toEqual([1000, 2000, 4000, 5000, 5000]);
  });

  it("starts again from the base delay after a session that stayed live long enough", () => {
    const backoff = new ResubscribeBackoff({ baseMs: 1000, maxMs: 30_000, stableMs: 10_000 });
    backoff.attemptEnded(null);
    backoff.attemptEnded(null);
    expect(backoff.attemptEnded(10_000)).toBe(1000);
    expect(backoff.attemptEnded(null)).toBe(2000);
  });
});
