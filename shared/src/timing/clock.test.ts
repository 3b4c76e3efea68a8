import { afterEach, describe, expect, it, vi } from "vitest";
import { systemClock, unrefClock } from "./clock.js";

afterEach(() => {
  vi.useRealTimers();
});

describe("systemClock and unrefClock", () => {
  it("look the timers up at call time, so fake timers installed later apply", () => {
    vi.useFakeTimers();
    const ran: string[] = [];
    systemClock.setTimeout(() => ran.push("system"), 100);
    unrefClock.setTimeout(() => ran.push("unref"), 100);
    vi.advanceTimersByTime(100);
    expect(ran).toEqual(["system", "unref"]);
  });

  it("unref only unrefClock's timers: only they let a Node process exit", () => {
    const kept = systemClock.setTimeout(() => undefined, 1000);
    const unrefd = unrefClock.setInterval(() => undefined, 1000);
    const hasRef = (handle: unknown) => (handle as NodeJS.Timeout).hasRef();
    expect([hasRef(kept), hasRef(unrefd)]).toEqual([true, false]);
    systemClock.clearTimeout(kept);
    unrefClock.clearInterval(unrefd);
  });
});
