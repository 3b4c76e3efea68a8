/**
 * The seeded plan of faults: which fault, when, for how long, on what. Pure (seed and shape in,
 * faults out), so the same seed gives the same faults and the checker can be tested without it.
 *
 * Durations are chosen so that each fault has one documented outcome: a blip (`stop` shorter
 * than `blipMaxMs`) must end nothing; a long stop, a partition, a Redis outage or a hub down
 * longer than the heartbeat timeout must end what it touches within its bound (see checker.ts).
 */
import type { Bounds, FaultKind, NodeName, PlannedFault } from "./history.js";
import { Random } from "./random.js";

export interface ScheduleShape {
  /** How long faults are injected, ms. */
  durationMs: number;
  /** Peer groups 0..groups-1. */
  groups: number;
  /** The group that runs in a network namespace (partition, loss), if any. */
  netnsGroup: number | undefined;
  bounds: Bounds;
}

/** A SIGSTOP this short is a healthy stall (GC, swap): it must never end a session. */
export function blipMaxMs(bounds: Bounds): number {
  return Math.min(600, Math.floor(bounds.pauseToleranceMs / 3));
}

/** The shortest "long" outage: past every detection bound, so what it touches must end. */
export function longMinMs(bounds: Bounds): number {
  return bounds.timeoutMs + bounds.intervalMs + bounds.slackMs + 500;
}

/** How long after a kill the group's peers are started again (its old ids freed by then). */
export function restartAfterMs(bounds: Bounds): number {
  return bounds.resumeGraceMs + bounds.slackMs + 1000;
}

const WEIGHTS: readonly [FaultKind, number][] = [
  ["stop", 5],
  ["kill", 3],
  ["partition", 2],
  ["loss", 1],
  ["hub-kill", 2],
  ["redis-outage", 2],
  ["hostile", 3],
];

function pickKind(random: Random, netns: boolean): FaultKind {
  const usable = WEIGHTS.filter(([kind]) => netns || (kind !== "partition" && kind !== "loss"));
  let roll = random.next() * usable.reduce((sum, [, w]) => sum + w, 0);
  for (const [kind, weight] of usable) {
    roll -= weight;
    if (roll < 0) return kind;
  }
  return "hostile";
}

/**
 * Faults start every 0.4-1.2 heartbeat timeouts, so several are often under way at once; no two
 * touch the same group or the same shared part (a node, Redis) at the same time, so each effect
 * has one cause per target. Every fault ends by `durationMs`.
 */
export function planFaults(seed: number, shape: ScheduleShape): PlannedFault[] {
  const random = new Random(seed);
  const { bounds, durationMs } = shape;
  const long = longMinMs(bounds);
  /** Until when each target is taken (groups by number, "a", "b", "redis", "hostile"). */
  const busyUntil = new Map<string, number>();
  const faults: PlannedFault[] = [];
  let at = bounds.intervalMs;
  for (let attempt = 0; attempt < 10_000 && at < durationMs; attempt++) {
    const kind = pickKind(random, shape.netnsGroup !== undefined);
    let target: number | NodeName | undefined;
    let lengthMs: number;
    let busyMs: number;
    switch (kind) {
      case "stop":
        target = random.int(0, shape.groups - 1);
        lengthMs = random.next() < 0.4 ? random.int(200, blipMaxMs(bounds)) : random.int(long, long + 2000);
        busyMs = lengthMs + bounds.slackMs;
        break;
      case "kill":
        target = random.int(0, shape.groups - 1);
        lengthMs = 0;
        busyMs = restartAfterMs(bounds) + bounds.timeoutMs;
        break;
      case "partition":
      case "loss":
        target = shape.netnsGroup;
        lengthMs = random.int(long, long + 2000);
        busyMs = lengthMs + bounds.timeoutMs + bounds.slackMs;
        break;
      case "hub-kill":
        target = random.pick(["a", "b"] as const);
        lengthMs = random.int(bounds.intervalMs, long);
        busyMs = lengthMs + bounds.timeoutMs + bounds.slackMs;
        break;
      case "redis-outage":
        lengthMs = random.int(long, long + 2000);
        busyMs = lengthMs + bounds.timeoutMs + bounds.slackMs;
        break;
      case "hostile":
        lengthMs = 2000;
        busyMs = lengthMs;
        break;
    }
    const key = target === undefined ? kind : String(target);
    // A hub down and Redis down at once are two causes of one effect (hub-link-lost): allowed,
    // that is an overlap worth having; a group's own faults never overlap.
    if ((busyUntil.get(key) ?? 0) <= at && at + lengthMs <= durationMs) {
      faults.push({
        id: faults.length + 1,
        kind,
        atMs: at,
        durationMs: lengthMs,
        ...(target === undefined ? {} : { target }),
      });
      busyUntil.set(key, at + busyMs);
    }
    at += random.int(Math.round(bounds.timeoutMs * 0.4), Math.round(bounds.timeoutMs * 1.2));
  }
  return faults;
}
