import { describe, expect, it } from "vitest";
import { FakeClock } from "./FakeClock.js";

describe("FakeClock", () => {
  it("runs nothing until advanced, then every due timer in order of due time", () => {
    const clock = new FakeClock();
    const ran: string[] = [];
    clock.setTimeout(() => ran.push(`b at ${clock.now()}`), 200);
    clock.setTimeout(() => ran.push(`a at ${clock.now()}`), 100);
    clock.setTimeout(() => ran.push("late"), 301);
    expect(ran).toEqual([]);
    clock.advance(300);
    expect(ran).toEqual(["a at 100", "b at 200"]);
    expect(clock.now()).toBe(300);
    expect(clock.pending).toBe(1);
  });

  it("runs timers due at the same time in the order they were armed", () => {
    const clock = new FakeClock();
    const ran: number[] = [];
    for (const n of [1, 2, 3]) clock.setTimeout(() => ran.push(n), 50);
    clock.advance(50);
    expect(ran).toEqual([1, 2, 3]);
  });

  it("runs a timer armed by a callback if it falls due within the same advance", () => {
    const clock = new FakeClock();
    const ran: number[] = [];
    clock.setTimeout(() => {
      ran.push(clock.now());
      clock.setTimeout(() => ran.push(clock.now()), 100);
    }, 100);
    clock.advance(250);
    expect(ran).toEqual([100, 200]);
  });

  it("never runs a cleared timer", () => {
    const clock = new FakeClock();
    let ran = false;
    const handle = clock.setTimeout(() => (ran = true), 10);
    clock.clearTimeout(handle);
    clock.advance(100);
    expect(ran).toBe(false);
    expect(clock.pending).toBe(0);
  });

  it("repeats an interval every period until cleared", () => {
    const clock = new FakeClock(1000);
    const ran: number[] = [];
    const handle = clock.setInterval(() => ran.push(clock.now()), 100);
    clock.advance(350);
    expect(ran).toEqual([1100, 1200, 1300]);
    clock.clearInterval(handle);
    clock.advance(1000);
    expect(ran).toHaveLength(3);
  });
});
