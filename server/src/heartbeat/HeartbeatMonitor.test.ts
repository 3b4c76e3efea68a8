import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { unrefClock as systemClock } from "@heartline/shared/timing";
import { HeartbeatMonitor, type End } from "./HeartbeatMonitor.js";

const INTERVAL = 250;
const TIMEOUT = 1000;
const STALE = 375;
const GRACE = INTERVAL;
/** The timings every test starts from: the fixed detector (adaptive has its own block below). */
const FIXED = { detector: "fixed", intervalMs: INTERVAL, pauseToleranceMs: 0 } as const;

type Event = { kind: "stale" | "fresh" | "lapsed"; sessionId: string; end: End; at: number };

describe("HeartbeatMonitor", () => {
  let events: Event[];
  let monitor: HeartbeatMonitor;
  let start: number;
  const lapses = (): Omit<Event, "kind">[] =>
    events.filter((e) => e.kind === "lapsed").map(({ kind: _kind, ...rest }) => rest);

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    events = [];
    start = performance.now();
    const record =
      (kind: Event["kind"]) =>
      (sessionId: string, end: End): void => {
        events.push({ kind, sessionId, end, at: performance.now() - start });
      };
    monitor = new HeartbeatMonitor({
      timings: { timeoutMs: TIMEOUT, staleAfterMs: STALE, answerGraceMs: GRACE, ...FIXED },
      clock: systemClock,
      listener: {
        stale: record("stale"),
        fresh: record("fresh"),
        lapsed: record("lapsed"),
        suspect: () => ({ probed: false, mediaAsked: false }),
      },
    });
  });
  afterEach(() => {
    monitor.clear();
    vi.useRealTimers();
  });

  /** A healthy beat: ping relayed, pong back. */
  function beat(id: string): void {
    monitor.heard(id, "streamer");
    monitor.pingRelayed(id);
    monitor.heard(id, "player");
  }

  describe("timeout", () => {
    it("does not lapse at exactly the timeout, and lapses just after it", () => {
      monitor.track("s1");
      vi.advanceTimersByTime(TIMEOUT);
      expect(lapses()).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(lapses()).toEqual([{ sessionId: "s1", end: "streamer", at: TIMEOUT + 1 }]);
    });

    it("keeps a session alive as long as beats arrive every interval", () => {
      monitor.track("s1");
      for (let i = 0; i < 40; i++) {
        vi.advanceTimersByTime(INTERVAL);
        beat("s1");
      }
      expect(events).toEqual([]);
      expect(monitor.health("s1", "streamer")).toBe("fresh");
    });

    it("traffic resets the deadline: the lapse comes a timeout after the last beat", () => {
      monitor.track("s1");
      vi.advanceTimersByTime(700);
      monitor.heard("s1", "streamer");
      vi.advanceTimersByTime(TIMEOUT);
      expect(lapses()).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(lapses()).toEqual([{ sessionId: "s1", end: "streamer", at: 700 + TIMEOUT + 1 }]);
    });

    it("lapses the player that stops answering while the streamer keeps pinging", () => {
      monitor.track("s1");
      monitor.heard("s1", "streamer");
      monitor.pingRelayed("s1");
      vi.advanceTimersByTime(20);
      monitor.heard("s1", "player"); // last pong at 20
      for (let i = 0; i < 6; i++) {
        vi.advanceTimersByTime(INTERVAL - (i === 0 ? 20 : 0));
        monitor.heard("s1", "streamer");
        monitor.pingRelayed("s1");
      }
      expect(lapses()).toEqual([{ sessionId: "s1", end: "player", at: 20 + TIMEOUT + 1 }]);
    });

    it("never judges a streamer held by another node, but still judges the player here", () => {
      monitor.track("s1", { streamerElsewhere: true });
      monitor.track("s2");
      vi.advanceTimersByTime(5 * TIMEOUT); // no streamer traffic at all
      expect(lapses()).toEqual([{ sessionId: "s2", end: "streamer", at: TIMEOUT + 1 }]);
      // A relayed ping makes the local player owe an answer, as on a single node.
      monitor.pingRelayed("s1");
      vi.advanceTimersByTime(2 * TIMEOUT);
      expect(lapses().filter((l) => l.sessionId === "s1")).toEqual([
        { sessionId: "s1", end: "player", at: 5 * TIMEOUT + GRACE + 1 },
      ]);
    });

    it("never blames the player for pings that were not sent", () => {
      monitor.track("s1");
      beat("s1");
      vi.advanceTimersByTime(5 * TIMEOUT); // the streamer freezes; the player owes nothing
      expect(lapses()).toEqual([{ sessionId: "s1", end: "streamer", at: TIMEOUT + 1 }]);
    });

    it("blames whichever end fell silent first when both stop", () => {
      monitor.track("s1");
      beat("s1"); // at 0
      vi.advanceTimersByTime(INTERVAL);
      monitor.heard("s1", "streamer");
      monitor.pingRelayed("s1"); // at 250: never answered, and the streamer stops too
      vi.advanceTimersByTime(3 * TIMEOUT);
      // The first lapse is the one a caller acts on (it tears the session down).
      expect(lapses()[0]).toEqual({ sessionId: "s1", end: "player", at: TIMEOUT + 1 });
    });

    it("gives the player answerGraceMs to answer the first ping after a long gap in pings", () => {
      monitor.track("s1");
      for (let i = 0; i < 8; i++) {
        vi.advanceTimersByTime(200); // non-ping traffic only
        monitor.heard("s1", "streamer");
      }
      monitor.pingRelayed("s1"); // at 1600; the player last spoke at 0
      vi.advanceTimersByTime(GRACE);
      expect(lapses()).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(lapses()).toEqual([{ sessionId: "s1", end: "player", at: 1600 + GRACE + 1 }]);
    });

    it("after a long gap in pings, the first ping does not make the player stale before its grace", () => {
      monitor.track("s1");
      for (let i = 0; i < 8; i++) {
        vi.advanceTimersByTime(200); // the streamer is back after a gap, but sent no ping yet
        monitor.heard("s1", "streamer");
      }
      monitor.pingRelayed("s1"); // at 1600; the player last spoke at 0, and owed nothing
      vi.advanceTimersByTime(1);
      monitor.heard("s1", "player"); // its pong, a millisecond later
      vi.advanceTimersByTime(TIMEOUT);
      // No stale-then-fresh flap for the player (it answered in time).
      expect(events.filter((e) => e.end === "player")).toEqual([]);
    });

    it("one session lapsing does not affect another", () => {
      monitor.track("a");
      monitor.track("b");
      for (let i = 0; i < 8; i++) {
        vi.advanceTimersByTime(INTERVAL);
        beat("b");
      }
      expect(lapses().map((l) => l.sessionId)).toEqual(["a"]);
      expect(monitor.health("b", "streamer")).toBe("fresh");
    });
  });

  describe("stale before lapsed", () => {
    it("marks an end stale after a missed beat, and fresh when it beats again", () => {
      monitor.track("s1");
      vi.advanceTimersByTime(STALE);
      expect(events).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(events).toEqual([{ kind: "stale", sessionId: "s1", end: "streamer", at: STALE + 1 }]);
      vi.advanceTimersByTime(200);
      monitor.heard("s1", "streamer");
      expect(events.at(-1)).toEqual({ kind: "fresh", sessionId: "s1", end: "streamer", at: STALE + 201 });
      expect(monitor.health("s1", "streamer")).toBe("fresh");
    });

    it("goes fresh -> stale -> lapsed, each reported once", () => {
      monitor.track("s1");
      vi.advanceTimersByTime(3 * TIMEOUT);
      expect(events.map((e) => `${e.kind}@${e.at}`)).toEqual([`stale@${STALE + 1}`, `lapsed@${TIMEOUT + 1}`]);
    });

    it("a late player turns stale while the streamer stays fresh", () => {
      monitor.track("s1");
      beat("s1");
      for (let i = 0; i < 2; i++) {
        vi.advanceTimersByTime(INTERVAL);
        monitor.heard("s1", "streamer");
        monitor.pingRelayed("s1");
      }
      expect(events).toEqual([{ kind: "stale", sessionId: "s1", end: "player", at: STALE + 1 }]);
    });

    it("skips stale when the stale threshold is not below the timeout", () => {
      monitor.reconfigure({ timeoutMs: 300, staleAfterMs: 375, answerGraceMs: GRACE, ...FIXED });
      monitor.track("s1");
      vi.advanceTimersByTime(1000);
      expect(events.map((e) => e.kind)).toEqual(["lapsed"]);
    });
  });

  describe("after a lapse", () => {
    it("reports a lapse once and keeps watching, so a caller that does not tear down hears the end return", () => {
      monitor.track("s1");
      vi.advanceTimersByTime(5 * TIMEOUT);
      expect(lapses()).toHaveLength(1);
      monitor.heard("s1", "streamer");
      expect(events.at(-1)?.kind).toBe("fresh");
      vi.advanceTimersByTime(TIMEOUT + 1);
      expect(lapses()).toHaveLength(2);
    });

    it("untrack stops everything and is idempotent; late traffic is ignored", () => {
      monitor.track("s1");
      monitor.untrack("s1");
      monitor.untrack("s1");
      monitor.heard("s1", "streamer");
      vi.advanceTimersByTime(10 * TIMEOUT);
      expect(events).toEqual([]);
      expect(monitor.size).toBe(0);
      expect(monitor.health("s1", "streamer")).toBeUndefined();
    });
  });

  describe("reconfigure", () => {
    it("applies a shorter timeout to running sessions at once", () => {
      monitor.track("s1");
      vi.advanceTimersByTime(300);
      monitor.reconfigure({ timeoutMs: 400, staleAfterMs: 10_000, answerGraceMs: GRACE, ...FIXED });
      vi.advanceTimersByTime(100);
      expect(lapses()).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(lapses()).toEqual([{ sessionId: "s1", end: "streamer", at: 401 }]);
    });

    it("applies a longer timeout to running sessions", () => {
      monitor.track("s1");
      vi.advanceTimersByTime(300);
      monitor.reconfigure({ timeoutMs: 3000, staleAfterMs: 2000, answerGraceMs: GRACE, ...FIXED });
      vi.advanceTimersByTime(2000);
      expect(events.map((e) => `${e.kind}@${e.at}`)).toEqual(["stale@2001"]);
      vi.advanceTimersByTime(1000);
      expect(events.map((e) => `${e.kind}@${e.at}`)).toEqual(["stale@2001", "lapsed@3001"]);
    });
  });

  it("uses one timer per session whatever the beat rate", () => {
    const setTimeoutSpy = vi.spyOn(systemClock, "setTimeout");
    for (let s = 0; s < 100; s++) monitor.track(`s${s}`);
    const afterTrack = setTimeoutSpy.mock.calls.length;
    // 100 beats per session within one stale period: no timer is touched.
    for (let i = 0; i < 100; i++) for (let s = 0; s < 100; s++) beat(`s${s}`);
    expect(setTimeoutSpy.mock.calls.length).toBe(afterTrack);
    expect(vi.getTimerCount()).toBe(100);
    setTimeoutSpy.mockRestore();
  });
});
