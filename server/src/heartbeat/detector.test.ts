/**
 * The adaptive detector on beat traces, at the defaults (5 s beats, 3 beats, 3 s pause
 * tolerance): the policy alone (detector.ts) and as the monitor applies it on a fake clock.
 * Traces: regular, jittery, lossy (late beats), stalled (a 3 s pause), dead; with and without a
 * probe, and with each kind of media evidence.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { unrefClock as systemClock } from "@heartline/shared/timing";
import { HeartbeatMonitor, type End, type SuspicionResponse } from "./HeartbeatMonitor.js";
import {
  deadAfterProbe,
  deviationsAtPhi,
  phi,
  PHI_SUSPECT,
  SampleWindow,
  suspectAfterMs,
  type DetectorSettings,
} from "./detector.js";

const INTERVAL = 5000;
const TIMEOUT = 15_000;
const PAUSE = 3000;
/** The monitor's timings at the defaults, adaptive. */
const TIMINGS = {
  timeoutMs: TIMEOUT,
  staleAfterMs: INTERVAL * 1.5,
  answerGraceMs: INTERVAL,
  detector: "adaptive",
  intervalMs: INTERVAL,
  pauseToleranceMs: PAUSE,
} as const;
const SETTINGS: DetectorSettings = {
  kind: "adaptive",
  intervalMs: INTERVAL,
  timeoutMs: TIMEOUT,
  pauseToleranceMs: PAUSE,
};

describe("phi", () => {
  it("grows with lateness and is about 0.3 (even odds) at the mean", () => {
    expect(phi(5000, 5000, 100)).toBeCloseTo(0.301, 2);
    expect(phi(5200, 5000, 100)).toBeLessThan(phi(5300, 5000, 100));
    expect(phi(4000, 5000, 100)).toBeLessThan(0.01);
  });

  it("reaches the suspicion threshold about 3.1 standard deviations out, as a normal tail does", () => {
    const z = deviationsAtPhi(PHI_SUSPECT);
    expect(z).toBeGreaterThan(3.0);
    expect(z).toBeLessThan(3.2);
    expect(phi(5000 + z * 100, 5000, 100)).toBeCloseTo(PHI_SUSPECT, 6);
  });
});

describe("SampleWindow", () => {
  it("keeps the last samples only, with their mean and spread", () => {
    const window = new SampleWindow(4);
    for (const value of [100, 100, 100, 100, 10, 20, 30, 40]) window.push(value);
    expect(window.count).toBe(4);
    expect(window.mean).toBe(25);
    expect(window.stdDev).toBeCloseTo(Math.sqrt(125), 6);
  });
});

describe("suspectAfterMs", () => {
  const trace = (gaps: number[]): SampleWindow => {
    const window = new SampleWindow();
    for (const gap of gaps) window.push(gap);
    return window;
  };
  const streamer = { untrainedMs: INTERVAL, floorMs: INTERVAL };

  it("suspects a regular streamer about 300 ms after its beat was due", () => {
    const after = suspectAfterMs(trace(Array<number>(16).fill(5000)), streamer, SETTINGS);
    expect(after).toBeGreaterThan(5250);
    expect(after).toBeLessThan(5400);
  });

  it("waits longer for a jittery or lossy streamer", () => {
    const regular = suspectAfterMs(trace(Array<number>(16).fill(5000)), streamer, SETTINGS);
    // 20 % loss on TCP: every fifth beat a retransmission late (200 ms, once 600 ms).
    const lossy = suspectAfterMs(
      trace([5000, 5000, 5200, 4800, 5000, 5000, 5000, 5600, 4400, 5000, 5000, 5200, 4800, 5000, 5000, 5000]),
      streamer,
      SETTINGS,
    );
    expect(lossy).toBeGreaterThan(regular + 300);
  });

  it("never expects a streamer's beat sooner than its interval, whatever its history", () => {
    expect(suspectAfterMs(trace(Array<number>(16).fill(100)), streamer, SETTINGS)).toBeGreaterThan(INTERVAL);
  });

  it("judges an untrained end from what is expected of it", () => {
    expect(suspectAfterMs(trace([5000]), streamer, SETTINGS)).toBeGreaterThan(INTERVAL);
  });
});

describe("deadAfterProbe", () => {
  const base = { settings: SETTINGS, now: 10_000, suspectedAt: 5000, probed: true, mediaAsked: true };

  it("never before the pause tolerance is over, and never with the fixed detector or no probe", () => {
    expect(deadAfterProbe({ ...base, now: 5000 + PAUSE, media: "dead" })).toBe(false);
    expect(deadAfterProbe({ ...base, settings: { ...SETTINGS, kind: "fixed" }, media: "dead" })).toBe(false);
    expect(deadAfterProbe({ ...base, probed: false, media: "dead" })).toBe(false);
  });

  it("is dead when media is dead too, or when nobody could be asked", () => {
    expect(deadAfterProbe({ ...base, media: "dead" })).toBe(true);
    expect(deadAfterProbe({ ...base, mediaAsked: false, media: "unknown" })).toBe(true);
  });

  it("is alive while media flows, or while the answer about media is awaited", () => {
    expect(deadAfterProbe({ ...base, media: "flowing" })).toBe(false);
    expect(deadAfterProbe({ ...base, media: "unknown" })).toBe(false);
  });
});

describe("HeartbeatMonitor with the adaptive detector", () => {
  type Event = { kind: "stale" | "fresh" | "lapsed" | "suspect"; end: End; at: number };
  let events: Event[];
  let monitor: HeartbeatMonitor;
  let start: number;
  let response: SuspicionResponse;
  const now = (): number => performance.now() - start;
  const lapse = (): Event | undefined => events.find((e) => e.kind === "lapsed");

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    events = [];
    start = performance.now();
    response = { probed: true, mediaAsked: false };
    const record =
      (kind: Event["kind"]) =>
      (_sessionId: string, end: End): void => {
        events.push({ kind, end, at: now() });
      };
    monitor = new HeartbeatMonitor({
      timings: TIMINGS,
      clock: systemClock,
      listener: {
        stale: record("stale"),
        fresh: record("fresh"),
        lapsed: record("lapsed"),
        suspect: (sessionId, end) => {
          record("suspect")(sessionId, end);
          return response;
        },
      },
    });
    monitor.track("s");
  });
  afterEach(() => {
    monitor.clear();
    vi.useRealTimers();
  });

  /** One beat: the streamer's ping, relayed, answered after `answerMs`. */
  function beat(answerMs = 2): void {
    monitor.heard("s", "streamer", true);
    monitor.pingRelayed("s");
    vi.advanceTimersByTime(answerMs);
    monitor.heard("s", "player", true);
  }

  /** `count` beats at the interval, each gap shifted by `jitter(i)` ms. */
  function beats(count: number, jitter: (i: number) => number = () => 0): void {
    for (let i = 0; i < count; i++) {
      beat();
      vi.advanceTimersByTime(INTERVAL - 2 + jitter(i));
    }
  }

  it("never suspects a regular streamer or player over many beats", () => {
    beats(60);
    expect(events).toEqual([]);
  });

  it("never suspects a jittery one (±150 ms) once it has learnt the jitter", () => {
    beats(4);
    const early = events.length;
    beats(120, (i) => ((i * 7919) % 301) - 150);
    expect(events.slice(early).filter((e) => e.kind !== "fresh" && e.kind !== "suspect")).toEqual([]);
  });

  it("ends a streamer that stops beating ~8.3 s after its last beat when its probe goes unanswered", () => {
    beats(16);
    beat();
    const last = now() - 2; // the streamer's beat; the player answered 2 ms later
    vi.advanceTimersByTime(TIMEOUT);
    const suspect = events.find((e) => e.kind === "suspect");
    expect(suspect?.end).toBe("streamer");
    expect((suspect?.at ?? 0) - last).toBeGreaterThan(INTERVAL);
    expect((suspect?.at ?? 0) - last).toBeLessThan(INTERVAL + 500);
    const lapsed = lapse();
    expect(lapsed?.end).toBe("streamer");
    expect((lapsed?.at ?? 0) - last).toBeGreaterThan(INTERVAL + PAUSE);
    expect((lapsed?.at ?? 0) - last).toBeLessThan(8500);
  });

  it("keeps a streamer that stalls for 3 s and then beats (a probe answered late is alive)", () => {
    beats(16);
    beat();
    // The beat was due in 5 s; the process stalls from just before then for 3 s.
    vi.advanceTimersByTime(INTERVAL - 2 + PAUSE - 100);
    // Late, so suspect and (past 7.5 s) stale, but not dead.
    expect(events.map((e) => e.kind)).toEqual(["suspect", "stale"]);
    beats(5);
    expect(lapse()).toBeUndefined();
    expect(monitor.suspect("s", "streamer")).toBe(false);
  });

  it("judges an end it could not probe by the timeout alone", () => {
    response = { probed: false, mediaAsked: false };
    beats(16);
    beat();
    const last = now() - 2; // the streamer's beat; the player answered 2 ms later
    vi.advanceTimersByTime(TIMEOUT + 10);
    expect((lapse()?.at ?? 0) - last).toBeGreaterThan(TIMEOUT);
  });

  it("keeps a silent end whose media still flows until the timeout (only signaling is broken)", () => {
    response = { probed: true, mediaAsked: true };
    beats(16);
    beat();
    const last = now() - 2; // the streamer's beat; the player answered 2 ms later
    vi.advanceTimersByTime(INTERVAL + 500);
    monitor.media("s", "streamer", "flowing");
    vi.advanceTimersByTime(PAUSE + 1000);
    expect(lapse()).toBeUndefined();
    vi.advanceTimersByTime(TIMEOUT);
    expect((lapse()?.at ?? 0) - last).toBeGreaterThan(TIMEOUT);
  });

  it("waits for the other end's media answer, and ends the end at once when it says media is dead", () => {
    response = { probed: true, mediaAsked: true };
    beats(16);
    beat();
    const last = now() - 2; // the streamer's beat; the player answered 2 ms later
    vi.advanceTimersByTime(INTERVAL + PAUSE + 2000);
    expect(lapse()).toBeUndefined();
    monitor.media("s", "streamer", "dead");
    expect(lapse()?.end).toBe("streamer");
    expect((lapse()?.at ?? 0) - last).toBeLessThan(TIMEOUT);
  });

  it("ends a player that stops answering ~3.3 s after the ping it owes, never blaming the streamer", () => {
    beats(16);
    monitor.heard("s", "streamer", true);
    monitor.pingRelayed("s");
    const relayed = now();
    vi.advanceTimersByTime(INTERVAL);
    monitor.heard("s", "streamer", true);
    monitor.pingRelayed("s");
    vi.advanceTimersByTime(INTERVAL);
    const lapsed = lapse();
    expect(lapsed?.end).toBe("player");
    expect((lapsed?.at ?? 0) - relayed).toBeGreaterThan(PAUSE);
    expect((lapsed?.at ?? 0) - relayed).toBeLessThan(PAUSE + 500);
    expect(events.filter((e) => e.end === "streamer")).toEqual([]);
  });

  it("never suspects a player before the grace it has for the first ping after a gap", () => {
    // No history: the player's first ping must be answered within an interval, as with `fixed`.
    monitor.heard("s", "streamer", true);
    monitor.pingRelayed("s");
    vi.advanceTimersByTime(INTERVAL - 1);
    monitor.heard("s", "player", true);
    expect(events).toEqual([]);
  });
});

describe("HeartbeatMonitor: a probe answered is not a beat", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("an end that answers probes but sends nothing for its session still lapses at the timeout", () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const start = performance.now();
    const suspects: number[] = [];
    let lapsedAt = Number.NaN;
    const monitor: HeartbeatMonitor = new HeartbeatMonitor({
      timings: TIMINGS,
      clock: systemClock,
      listener: {
        stale: () => undefined,
        fresh: () => undefined,
        lapsed: () => {
          lapsedAt = performance.now() - start;
        },
        suspect: (sessionId, end) => {
          suspects.push(performance.now() - start);
          // Answered 5 ms later, as a live process would.
          setTimeout(() => {
            monitor.probeAnswered(sessionId, end);
          }, 5);
          return { probed: true, mediaAsked: false };
        },
      },
    });
    monitor.track("s");
    vi.advanceTimersByTime(TIMEOUT + 100);
    expect(suspects.length).toBeGreaterThanOrEqual(2);
    expect(lapsedAt).toBe(TIMEOUT + 1);
    monitor.clear();
  });
});
