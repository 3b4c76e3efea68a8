import { describe, expect, it } from "vitest";
import { Backoff } from "./Backoff.js";

describe("Backoff", () => {
  it("multiplies the step by the factor after each failure, up to maxMs", () => {
    const backoff = new Backoff({ initialMs: 1000, maxMs: 5000, jitter: [1, 1] });
    expect([1, 2, 3, 4, 5].map(() => backoff.next())).toEqual([1000, 2000, 4000, 5000, 5000]);
    const slower = new Backoff({ initialMs: 100, maxMs: 1000, factor: 3, jitter: [1, 1] });
    expect([1, 2, 3, 4].map(() => slower.next())).toEqual([100, 300, 900, 1000]);
  });

  it("starts over from initialMs after reset()", () => {
    const backoff = new Backoff({ initialMs: 500, jitter: [1, 1] });
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.next()).toBe(500);
  });

  it("draws each delay from the jitter range of the step: full jitter by default", () => {
    const at = (random: number, jitter?: readonly [number, number]) =>
      new Backoff({
        initialMs: 1000,
        maxMs: 10_000,
        random: () => random,
        ...(jitter ? { jitter } : {}),
      }).next();
    expect([at(0), at(0.5), at(0.999999)]).toEqual([0, 500, 1000]);
    expect([at(0, [0.5, 1]), at(0.999999, [0.5, 1])]).toEqual([500, 1000]);
    expect([at(0, [0.8, 1.2]), at(0.999999, [0.8, 1.2])]).toEqual([800, 1200]);
  });

  it("never waits longer than maxMs, jitter included", () => {
    const backoff = new Backoff({ initialMs: 1000, maxMs: 1000, jitter: [0.8, 1.2], random: () => 0.999999 });
    expect(backoff.next()).toBe(1000);
  });

  it("keeps growing no further once at maxMs, however many failures", () => {
    const backoff = new Backoff({ initialMs: 1, maxMs: 2000, jitter: [1, 1] });
    for (let i = 0; i < 10_000; i++) backoff.next();
    expect(backoff.next()).toBe(2000);
  });

  it("rejects a jitter range that is inverted or negative", () => {
    expect(() => new Backoff({ jitter: [1, 0.5] })).toThrow(RangeError);
    expect(() => new Backoff({ jitter: [-0.1, 1] })).toThrow(RangeError);
  });
});
