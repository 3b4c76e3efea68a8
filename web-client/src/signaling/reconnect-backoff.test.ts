import { describe, expect, it } from "vitest";
import { ReconnectBackoff } from "./reconnect-backoff.js";

describe("ReconnectBackoff", () => {
  it("doubles the delay after each failure, up to maxMs", () => {
    const backoff = new ReconnectBackoff({ baseMs: 1000, maxMs: 5000, jitter: 0 });
    expect([1, 2, 3, 4, 5].map(() => backoff.next())).toEqual([1000, 2000, 4000, 5000, 5000]);
  });

  it("starts over from baseMs after reset()", () => {
    const backoff = new ReconnectBackoff({ baseMs: 500, jitter: 0 });
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.next()).toBe(500);
  });

  it("spreads each delay by at most the jitter fraction, never above maxMs", () => {
    const low = new ReconnectBackoff({ baseMs: 1000, maxMs: 1000, jitter: 0.2, random: () => 0 });
    const high = new ReconnectBackoff({ baseMs: 1000, maxMs: 10_000, jitter: 0.2, random: () => 0.999999 });
    const capped = new ReconnectBackoff({ baseMs: 1000, maxMs: 1000, jitter: 0.2, random: () => 0.999999 });
    expect(low.next()).toBe(800);
    expect(high.next()).toBe(1200);
    expect(capped.next()).toBe(1000);
  });
});
