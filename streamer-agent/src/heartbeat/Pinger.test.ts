import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { PingMessage } from "@heartline/shared";
import { systemClock } from "@heartline/shared/timing";
import { Pinger } from "./Pinger.js";

describe("Pinger", () => {
  let sent: PingMessage[];
  let pinger: Pinger;
  const rtts: [string, number][] = [];

  beforeEach(() => {
    vi.useFakeTimers({
      toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "performance"],
    });
    sent = [];
    rtts.length = 0;
    pinger = new Pinger({
      send: (message) => sent.push(message),
      onRtt: (sessionId, rtt) => rtts.push([sessionId, rtt]),
      clock: systemClock,
    });
  });
  afterEach(() => {
    pinger.clear();
    vi.useRealTimers();
  });

  const pingsOf = (sessionId: string): PingMessage[] => sent.filter((m) => m.sessionId === sessionId);

  it("pings a new session at once, then every configured interval", () => {
    pinger.setInterval(500);
    pinger.add("s1");
    expect(pingsOf("s1")).toHaveLength(1);

    vi.advanceTimersByTime(499);
    expect(pingsOf("s1")).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(pingsOf("s1")).toHaveLength(2);
    vi.advanceTimersByTime(1500);
    expect(pingsOf("s1")).toHaveLength(5);
  });

  it("stamps each ping with the agent's monotonic clock", () => {
    pinger.setInterval(1000);
    vi.advanceTimersByTime(250);
    const before = performance.now();
    pinger.add("s1");
    expect(sent[0]).toEqual({ type: "ping", sessionId: "s1", time: before });
  });

  it("waits for the hub's config before pinging a session added earlier", () => {
    pinger.add("s1");
    vi.advanceTimersByTime(10_000);
    expect(sent).toHaveLength(0);
    pinger.setInterval(200);
    expect(pingsOf("s1")).toHaveLength(1);
    vi.advanceTimersByTime(200);
    expect(pingsOf("s1")).toHaveLength(2);
  });

  it("follows a new interval from a later config", () => {
    pinger.setInterval(1000);
    pinger.add("s1");
    vi.advanceTimersByTime(1000);
    expect(pingsOf("s1")).toHaveLength(2);

    pinger.setInterval(100);
    vi.advanceTimersByTime(1000);
    expect(pingsOf("s1")).toHaveLength(12);
  });

  it("computes the round-trip time from the echoed time", () => {
    pinger.setInterval(1000);
    pinger.add("s1");
    const ping = sent[0];
    if (!ping) throw new Error("no ping sent");
    vi.advanceTimersByTime(42);
    expect(pinger.handlePong({ type: "pong", sessionId: "s1", time: ping.time })).toBe(42);
    expect(rtts).toEqual([["s1", 42]]);
  });

  it("ignores a pong of a session it no longer pings", () => {
    pinger.setInterval(1000);
    pinger.add("s1");
    pinger.remove("s1");
    expect(pinger.handlePong({ type: "pong", sessionId: "s1", time: 0 })).toBeUndefined();
    expect(rtts).toEqual([]);
  });

  it("stops pinging a removed session and keeps pinging the others", () => {
    pinger.setInterval(100);
    pinger.add("s1");
    pinger.add("s2");
    pinger.remove("s1");
    pinger.remove("s1"); // idempotent
    vi.advanceTimersByTime(1000);
    expect(pingsOf("s1")).toHaveLength(1);
    expect(pingsOf("s2")).toHaveLength(11);
    expect(pinger.sessionIds).toEqual(["s2"]);
    expect(vi.getTimerCount()).toBe(1);
  });

  it("stops every session on clear", () => {
    pinger.setInterval(100);
    pinger.add("s1");
    pinger.add("s2");
    pinger.clear();
    vi.advanceTimersByTime(1000);
    expect(sent).toHaveLength(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("carries the session's last signaling RTT in every ping after the first pong", () => {
    pinger.setInterval(1000);
    pinger.add("s1");
    pinger.add("s2");
    const first = pingsOf("s1")[0];
    if (!first) throw new Error("no ping sent");
    expect(first.rttMs).toBeUndefined();
    vi.advanceTimersByTime(30);
    pinger.handlePong({ type: "pong", sessionId: "s1", time: first.time });
    expect(pinger.rttOf("s1")).toBe(30);

    vi.advanceTimersByTime(970);
    expect(pingsOf("s1").at(-1)?.rttMs).toBe(30);
    expect(pingsOf("s2").at(-1)?.rttMs).toBeUndefined(); // Per session: s2 had no pong yet.
    vi.advanceTimersByTime(1000);
    expect(pingsOf("s1").at(-1)?.rttMs).toBe(30);
  });

  it("carries the media RTT and send stats once known", () => {
    let extras: { mediaRttMs?: number; stats?: { fps: number; bitrateKbps: number } } = {};
    const withExtras = new Pinger({
      send: (message) => sent.push(message),
      extras: () => extras,
      clock: systemClock,
    });
    withExtras.setInterval(100);
    withExtras.add("s1");
    expect(sent[0]).toEqual({ type: "ping", sessionId: "s1", time: expect.any(Number) as number });
    extras = { mediaRttMs: 3, stats: { fps: 30, bitrateKbps: 800 } };
    vi.advanceTimersByTime(100);
    expect(sent[1]).toMatchObject({ mediaRttMs: 3, stats: { fps: 30, bitrateKbps: 800 } });
    withExtras.clear();
  });

  it("pauses without forgetting its sessions, and resumes with a ping at once", () => {
    pinger.setInterval(100);
    pinger.add("s1");
    pinger.pause();
    pinger.add("s2");
    pinger.setInterval(50);
    vi.advanceTimersByTime(1000);
    expect(sent).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);

    pinger.resume();
    expect(pingsOf("s1")).toHaveLength(2);
    expect(pingsOf("s2")).toHaveLength(1);
    vi.advanceTimersByTime(100);
    expect(pingsOf("s1")).toHaveLength(4);
  });

  it("refuses an interval that is not a positive number", () => {
    expect(() => {
      pinger.setInterval(0);
    }).toThrow(/positive/);
  });
});
