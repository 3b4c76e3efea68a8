import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MediaPingSchema, type MediaPing } from "@heartline/shared";
import { systemClock } from "@heartline/shared/timing";
import { MediaHeartbeat } from "./MediaHeartbeat.js";

describe("MediaHeartbeat", () => {
  let sent: MediaPing[];
  let timeouts: number[];
  let invalid: string[];
  let signalingRttMs: number | undefined;
  let heartbeat: MediaHeartbeat;

  beforeEach(() => {
    vi.useFakeTimers({
      toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "performance"],
    });
    sent = [];
    timeouts = [];
    invalid = [];
    signalingRttMs = undefined;
    heartbeat = new MediaHeartbeat({
      settings: { intervalMs: 100, timeoutMs: 300 },
      send: (text) => sent.push(MediaPingSchema.parse(JSON.parse(text))),
      onTimeout: (silentForMs) => timeouts.push(silentForMs),
      onInvalid: (problem) => invalid.push(problem),
      signalingRttMs: () => signalingRttMs,
      clock: systemClock,
    });
  });
  afterEach(() => {
    heartbeat.stop();
    vi.useRealTimers();
  });

  const pong = (time: number): string => JSON.stringify({ type: "pong", time });
  const lastPing = (): MediaPing => {
    const ping = sent.at(-1);
    if (!ping) throw new Error("no ping sent");
    return ping;
  };

  it("sends nothing until the channel opens, then pings at once and every interval", () => {
    vi.advanceTimersByTime(1000);
    expect(sent).toHaveLength(0);
    heartbeat.start();
    expect(sent).toHaveLength(1);
    vi.advanceTimersByTime(250);
    expect(sent).toHaveLength(3);
  });

  it("measures the RTT from the echoed time and reports it in the next ping", () => {
    heartbeat.start();
    const first = lastPing();
    expect(first.rttMs).toBeUndefined();
    vi.advanceTimersByTime(17);
    expect(heartbeat.handleMessage(pong(first.time))).toBe(17);
    expect(heartbeat.rttMs).toBe(17);
    signalingRttMs = 40;
    vi.advanceTimersByTime(83);
    expect(lastPing()).toMatchObject({ rttMs: 17, signalingRttMs: 40 });
  });

  it("times out once when no pong arrives for timeoutMs after opening", () => {
    heartbeat.start();
    vi.advanceTimersByTime(299);
    expect(timeouts).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(timeouts).toEqual([300]);
    const pings = sent.length;
    vi.advanceTimersByTime(1000);
    expect(timeouts).toHaveLength(1);
    expect(sent).toHaveLength(pings); // It stops pinging a dead path.
    expect(vi.getTimerCount()).toBe(0);
  });

  it("restarts the deadline on every pong", () => {
    heartbeat.start();
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(100);
      heartbeat.handleMessage(pong(lastPing().time));
    }
    expect(timeouts).toEqual([]);
    vi.advanceTimersByTime(300);
    expect(timeouts).toEqual([300]);
  });

  it("counts the player's RTCP as proof of life: lost pongs on a lossy link end nothing", () => {
    heartbeat.start();
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(100);
      heartbeat.pathHeard(); // a receiver report, no pong
    }
    expect(timeouts).toEqual([]);
    expect(heartbeat.rttMs).toBeUndefined(); // a report measures nothing
    // Reports stop too: the deadline runs from the last one.
    vi.advanceTimersByTime(299);
    expect(timeouts).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(timeouts).toEqual([300]);
  });

  it("ignores RTCP before the channel opens and after it stopped", () => {
    heartbeat.pathHeard();
    heartbeat.start();
    vi.advanceTimersByTime(300);
    expect(timeouts).toEqual([300]);
    heartbeat.pathHeard();
    vi.advanceTimersByTime(1000);
    expect(timeouts).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("ignores invalid messages: they are no proof of life", () => {
    heartbeat.start();
    for (const text of ["not json", JSON.stringify({ type: "ping", time: 1 }), pong(-1), pong(1e12)]) {
      expect(heartbeat.handleMessage(text)).toBeUndefined();
    }
    expect(heartbeat.handleMessage(Buffer.from(pong(0)))).toBe(0);
    expect(invalid).toHaveLength(4);
    vi.advanceTimersByTime(300);
    expect(timeouts).toEqual([300]);
  });

  it("applies a new interval and timeout at once", () => {
    heartbeat.start();
    vi.advanceTimersByTime(50);
    heartbeat.setSettings({ intervalMs: 20, timeoutMs: 1000 });
    const before = sent.length;
    vi.advanceTimersByTime(100);
    expect(sent.length - before).toBe(5);
    // The deadline now counts 1000 ms from the opening, not 300.
    vi.advanceTimersByTime(800);
    expect(timeouts).toEqual([]);
    vi.advanceTimersByTime(50);
    expect(timeouts).toEqual([1000]);
  });

  it("stops pinging and watching on stop", () => {
    heartbeat.start();
    heartbeat.stop();
    heartbeat.stop();
    vi.advanceTimersByTime(1000);
    expect(sent).toHaveLength(1);
    expect(timeouts).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("MediaHeartbeat when signaling is silent too", () => {
  beforeEach(() => {
    vi.useFakeTimers({
      toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "performance"],
    });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function setup(healthy: () => boolean) {
    const timeouts: number[] = [];
    const heartbeat = new MediaHeartbeat({
      settings: { intervalMs: 100, timeoutMs: 300 },
      send: () => undefined,
      onTimeout: (silentForMs) => timeouts.push(silentForMs),
      signalingHealthy: healthy,
      clock: systemClock,
    });
    heartbeat.start();
    return { heartbeat, timeouts };
  }

  it("leaves the verdict to the hub while signaling is silent (a frozen player is not a media failure)", () => {
    const { heartbeat, timeouts } = setup(() => false);
    vi.advanceTimersByTime(2000);
    expect(timeouts).toEqual([]);
    heartbeat.stop();
  });

  it("condemns the media path once signaling is healthy again and the channel is still silent", () => {
    let healthy = false;
    const { heartbeat, timeouts } = setup(() => healthy);
    vi.advanceTimersByTime(1000);
    expect(timeouts).toEqual([]);
    healthy = true;
    vi.advanceTimersByTime(100);
    expect(timeouts).toHaveLength(1);
    expect(timeouts[0]).toBeGreaterThan(1000);
    heartbeat.stop();
  });

  it("condemns it at the deadline while signaling is healthy", () => {
    const { heartbeat, timeouts } = setup(() => true);
    vi.advanceTimersByTime(299);
    expect(timeouts).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(timeouts).toEqual([300]);
    heartbeat.stop();
  });
});
