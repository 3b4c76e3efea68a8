import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { systemClock } from "./clock.js";
import { HeartbeatMonitor, type End } from "./HeartbeatMonitor.js";

const TIMEOUT = 1000;
const GRACE = 250;

describe("HeartbeatMonitor", () => {
  let lapses: { sessionId: string; end: End; at: number }[];
  let monitor: HeartbeatMonitor;
  let start: number;

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    lapses = [];
    start = performance.now();
    monitor = new HeartbeatMonitor({
      timeoutMs: TIMEOUT,
      answerGraceMs: GRACE,
      clock: systemClock,
      onLapse: (sessionId, end) => lapses.push({ sessionId, end, at: performance.now() - start }),
    });
  });
  afterEach(() => {
    monitor.clear();
    vi.useRealTimers();
  });

  it("does not lapse at exactly the timeout, and lapses just after it", () => {
    monitor.track("s1");
    vi.advanceTimersByTime(TIMEOUT);
    expect(lapses).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(lapses).toEqual([{ sessionId: "s1", end: "streamer", at: TIMEOUT + 1 }]);
  });

  it("blames the streamer when nobody says anything (the player had nothing to answer)", () => {
    monitor.track("s1");
    vi.advanceTimersByTime(TIMEOUT + 1);
    expect(lapses.map((l) => l.end)).toEqual(["streamer"]);
  });

  it("keeps a session alive as long as beats arrive within the timeout", () => {
    monitor.track("s1");
    for (let i = 0; i < 20; i++) {
      vi.advanceTimersByTime(TIMEOUT - 10);
      monitor.heard("s1", "streamer");
      monitor.pingRelayed("s1");
      monitor.heard("s1", "player");
    }
    expect(lapses).toEqual([]);
    expect(monitor.size).toBe(1);
  });

  it("traffic resets the deadline: lapse comes timeout after the last beat", () => {
    monitor.track("s1");
    vi.advanceTimersByTime(700);
    monitor.heard("s1", "streamer");
    vi.advanceTimersByTime(TIMEOUT);
    expect(lapses).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(lapses).toEqual([{ sessionId: "s1", end: "streamer", at: 700 + TIMEOUT + 1 }]);
  });

  it("lapses the player that stops answering while the streamer keeps pinging", () => {
    monitor.track("s1");
    monitor.heard("s1", "streamer");
    monitor.pingRelayed("s1");
    vi.advanceTimersByTime(20);
    monitor.heard("s1", "player"); // last pong at 20
    for (let t = 250; t <= 1500; t += 250) {
      vi.advanceTimersByTime(250 - (t === 250 ? 20 : 0));
      monitor.heard("s1", "streamer");
      monitor.pingRelayed("s1");
    }
    expect(lapses).toEqual([{ sessionId: "s1", end: "player", at: 20 + TIMEOUT + 1 }]);
  });

  it("never blames the player for pings that were not sent", () => {
    monitor.track("s1");
    monitor.heard("s1", "streamer");
    monitor.pingRelayed("s1");
    vi.advanceTimersByTime(10);
    monitor.heard("s1", "player");
    // The streamer freezes: no more pings. The player is silent too, but owes nothing.
    vi.advanceTimersByTime(5 * TIMEOUT);
    expect(lapses).toEqual([{ sessionId: "s1", end: "streamer", at: TIMEOUT + 1 }]);
  });

  it("one end lapsing does not affect another session", () => {
    monitor.track("a");
    monitor.track("b");
    for (let i = 0; i < 3; i++) {
      vi.advanceTimersByTime(500);
      monitor.heard("b", "streamer");
    }
    expect(lapses.map((l) => l.sessionId)).toEqual(["a"]);
    expect(monitor.size).toBe(1);
  });

  it("gives the player answerGraceMs to answer the first ping after a long gap in pings", () => {
    monitor.track("s1");
    // The streamer sends only non-ping traffic for longer than the timeout.
    for (let i = 0; i < 4; i++) {
      vi.advanceTimersByTime(400);
      monitor.heard("s1", "streamer");
    }
    monitor.pingRelayed("s1"); // at 1600; the player last spoke at 0
    vi.advanceTimersByTime(GRACE);
    expect(lapses).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(lapses).toEqual([{ sessionId: "s1", end: "player", at: 1600 + GRACE + 1 }]);
  });

  it("moves its timer earlier when the player's deadline comes first", () => {
    monitor.track("s1");
    vi.advanceTimersByTime(100);
    monitor.heard("s1", "player"); // player at 100, not owing
    vi.advanceTimersByTime(400);
    monitor.heard("s1", "streamer"); // timer still armed for the first deadline (1001)
    vi.advanceTimersByTime(600);
    monitor.heard("s1", "streamer"); // at 1100: timer re-arms for 2101
    monitor.pingRelayed("s1"); // the player's deadline (1100 + grace) now comes first
    vi.advanceTimersByTime(GRACE + 1);
    expect(lapses).toEqual([{ sessionId: "s1", end: "player", at: 1100 + GRACE + 1 }]);
  });

  it("untrack stops the deadline and is idempotent", () => {
    monitor.track("s1");
    monitor.untrack("s1");
    monitor.untrack("s1");
    vi.advanceTimersByTime(10 * TIMEOUT);
    expect(lapses).toEqual([]);
    expect(monitor.size).toBe(0);
  });

  it("reports a lapse once and forgets the session", () => {
    monitor.track("s1");
    vi.advanceTimersByTime(3 * TIMEOUT);
    expect(lapses).toHaveLength(1);
    expect(monitor.size).toBe(0);
    monitor.heard("s1", "streamer"); // late traffic for a closed session is ignored
    expect(monitor.lapsedEnd("s1")).toBeUndefined();
  });
});
