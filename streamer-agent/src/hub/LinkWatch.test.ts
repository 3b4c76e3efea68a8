import { describe, expect, it } from "vitest";
import { FakeClock } from "@heartline/shared/testing";
import type { Clock } from "@heartline/shared/timing";
import { hubSilenceLimitMs } from "@heartline/shared";
import { LinkWatch, RECHECK_MS } from "./LinkWatch.js";

const LIMIT = hubSilenceLimitMs(5000);

/**
 * A FakeClock whose process can be stopped: `stall(ms)` moves the time this process reads
 * without running its timers, as SIGSTOP does; they run late once time moves on.
 */
function stallable() {
  const fake = new FakeClock();
  let offset = 0;
  const clock: Clock = {
    now: () => fake.now() + offset,
    setTimeout: (callback, ms) => fake.setTimeout(callback, ms),
    clearTimeout: (handle) => {
      fake.clearTimeout(handle);
    },
    setInterval: (callback, ms) => fake.setInterval(callback, ms),
    clearInterval: (handle) => {
      fake.clearInterval(handle);
    },
  };
  return {
    clock,
    advance: (ms: number) => {
      fake.advance(ms);
    },
    stall: (ms: number) => {
      offset += ms;
    },
  };
}

function watch() {
  const c = stallable();
  const silences: number[] = [];
  const w = new LinkWatch({ clock: c.clock, onSilent: (ms) => silences.push(ms) });
  return { ...c, w, silences };
}

describe("LinkWatch", () => {
  it("is 7.5 s at the default 5 s interval, and 3 s at a 300 ms one (the hub pings at least every second)", () => {
    expect(LIMIT).toBe(7500);
    expect(hubSilenceLimitMs(300)).toBe(3000);
    expect(hubSilenceLimitMs(60_000)).toBe(25_000 + 12_500);
  });

  it("calls a hub silent for the limit dead, once, and not a moment before", () => {
    const { w, advance, silences } = watch();
    w.start();
    w.limit(LIMIT);
    advance(LIMIT - 1);
    expect(silences).toEqual([]);
    advance(1);
    expect(silences).toEqual([LIMIT]);
    advance(10 * LIMIT);
    expect(silences).toEqual([LIMIT]);
  });

  it("never while the hub is heard, however long", () => {
    const { w, advance, silences } = watch();
    w.start();
    w.limit(LIMIT);
    for (let i = 0; i < 100; i++) {
      advance(LIMIT - 100);
      w.heard();
    }
    expect(silences).toEqual([]);
  });

  it("does not take this process's own stall for the hub's silence when the hub's traffic was waiting", () => {
    const { w, advance, stall, silences } = watch();
    w.start();
    w.limit(LIMIT);
    advance(6000);
    stall(3000); // SIGSTOP for 3 s; the hub's ping is in the socket, unread
    advance(1500); // the check runs 3 s late
    expect(silences).toEqual([]);
    w.heard(); // the socket is read
    advance(LIMIT - 1);
    expect(silences).toEqual([]);
    advance(1);
    expect(silences).toEqual([LIMIT]);
  });

  it("after its own stall, calls the hub dead once a recheck still finds nothing", () => {
    const { w, advance, stall, silences } = watch();
    w.start();
    w.limit(LIMIT);
    advance(6000);
    stall(3000);
    advance(1500);
    expect(silences).toEqual([]);
    advance(RECHECK_MS);
    expect(silences).toEqual([6000 + 3000 + 1500 + RECHECK_MS]);
  });

  it("judges nothing before the hub's config gave the limit, nor after stop, and watches again on start", () => {
    const { w, advance, silences } = watch();
    w.start();
    advance(10 * LIMIT);
    expect(silences).toEqual([]);
    w.limit(LIMIT); // counts from the last thing heard: long ago
    advance(0);
    expect(silences).toHaveLength(1);
    w.start();
    advance(LIMIT / 2);
    w.stop();
    advance(10 * LIMIT);
    expect(silences).toHaveLength(1);
    w.start();
    advance(LIMIT);
    expect(silences).toHaveLength(2);
  });
});
