/**
 * Benchmark (not a test): what the heartbeat monitor costs at scale, on the real clock.
 *
 *   pnpm --filter @heartline/server bench:heartbeat [--sessions 10000] [--seconds 10]
 *
 * (run with node --expose-gc so the heap figure is taken after a full collection)
 *
 * 1. Beat cost: N sessions beat (ping relayed + pong) once per interval, spread evenly, for a
 *    bounded time. Reports CPU per beat next to a baseline measured in the same run (the same
 *    Map lookups and timestamp writes with no monitor), and how many timers the monitor holds.
 * 2. Teardown precision: N/10 sessions are made to lapse; reports (lapse seen - deadline).
 * Bounded in count and time; stops by itself.
 */
import { parseArgs } from "node:util";
import { unrefClock as systemClock, type Clock } from "@heartline/shared/timing";
import { HeartbeatMonitor } from "../src/heartbeat/HeartbeatMonitor.js";

const { values } = parseArgs({
  options: {
    sessions: { type: "string", default: "10000" },
    seconds: { type: "string", default: "10" },
    "interval-ms": { type: "string", default: "1000" },
  },
});
const SESSIONS = Math.min(100_000, Number(values.sessions));
const SECONDS = Math.min(120, Number(values.seconds));
const INTERVAL = Number(values["interval-ms"]);
const TIMEOUT = INTERVAL * 3;
const TICK_MS = 10;

const out = (line: string): void => {
  process.stderr.write(`${line}\n`);
};
const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

/** Beats every session once per interval, a slice per tick; returns CPU µs per beat. */
async function drive(label: string, beat: (id: string) => void, ids: string[]): Promise<number> {
  const perTick = Math.ceil((ids.length * TICK_MS) / INTERVAL);
  const ticks = Math.floor((SECONDS * 1000) / TICK_MS);
  let cursor = 0;
  let beats = 0;
  const cpuStart = process.cpuUsage();
  for (let t = 0; t < ticks; t++) {
    for (let i = 0; i < perTick; i++) {
      beat(ids[cursor] as string);
      cursor = (cursor + 1) % ids.length;
      beats++;
    }
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
    if (t % 100 === 0) out(`  ${label}: ${Math.round((t / ticks) * 100)}%`);
  }
  const cpu = process.cpuUsage(cpuStart);
  return (cpu.user + cpu.system) / beats;
}

/** The real clock, counting timers armed and pending. */
let armed = 0;
const pending = new Set<unknown>();
const countingClock: Clock = {
  now: () => systemClock.now(),
  setTimeout: (callback, ms) => {
    armed++;
    const handle = systemClock.setTimeout(() => {
      pending.delete(handle);
      callback();
    }, ms);
    pending.add(handle);
    return handle;
  },
  clearTimeout: (handle) => {
    pending.delete(handle);
    systemClock.clearTimeout(handle);
  },
  // The monitor arms no intervals; these only complete the Clock.
  setInterval: (callback, ms) => systemClock.setInterval(callback, ms),
  clearInterval: (handle) => {
    systemClock.clearInterval(handle);
  },
};

const TIMINGS = {
  timeoutMs: TIMEOUT,
  staleAfterMs: INTERVAL * 1.5,
  answerGraceMs: INTERVAL,
  detector: "adaptive",
  intervalMs: INTERVAL,
  pauseToleranceMs: INTERVAL / 2,
} as const;

const ids = Array.from({ length: SESSIONS }, (_, i) => `session-${i}`);
const lapses: number[] = [];
const monitor = new HeartbeatMonitor({
  timings: TIMINGS,
  clock: countingClock,
  listener: {
    stale: () => undefined,
    fresh: () => undefined,
    lapsed: () => undefined,
    suspect: () => ({ probed: false, mediaAsked: false }),
  },
});

out(`heartbeat monitor benchmark: ${SESSIONS} sessions, interval ${INTERVAL} ms, ${SECONDS} s per phase`);
// Baseline: the same per-beat bookkeeping a bare hub does (a Map lookup and a timestamp).
const bare = new Map(ids.map((id) => [id, { at: 0 }]));
const baselineUs = await drive(
  "baseline",
  (id) => {
    const entry = bare.get(id);
    if (entry) entry.at = performance.now();
  },
  ids,
);

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
gc();
const heapBefore = process.memoryUsage().heapUsed;
for (const id of ids) monitor.track(id);
gc();
const heapPerSession = (process.memoryUsage().heapUsed - heapBefore) / SESSIONS;
const armedBefore = armed;
const monitorUs = await drive(
  "monitor",
  (id) => {
    monitor.heard(id, "streamer", true);
    monitor.pingRelayed(id);
    monitor.heard(id, "player", true);
  },
  ids,
);
const activeTimers = pending.size;
const timersArmedPerSessionSecond = (armed - armedBefore) / SESSIONS / SECONDS;
monitor.clear();

// Teardown precision: a tenth of the sessions go silent at once.
const lapsing = ids.slice(0, Math.max(1, Math.floor(SESSIONS / 10)));
const deadlines = new Map<string, number>();
const precision = new HeartbeatMonitor({
  timings: TIMINGS,
  clock: systemClock,
  listener: {
    stale: () => undefined,
    fresh: () => undefined,
    lapsed: (id) => {
      lapses.push(performance.now() - (deadlines.get(id) ?? 0));
      precision.untrack(id);
    },
    suspect: () => ({ probed: false, mediaAsked: false }),
  },
});
out(`  precision: ${lapsing.length} sessions lapse after ${TIMEOUT} ms…`);
for (const id of lapsing) {
  precision.track(id);
  deadlines.set(id, performance.now() + TIMEOUT);
}
const until = performance.now() + TIMEOUT * 2 + 1000;
while (lapses.length < lapsing.length && performance.now() < until) {
  await new Promise((resolve) => setTimeout(resolve, 50));
}
precision.clear();
lapses.sort((a, b) => a - b);

const result = {
  sessions: SESSIONS,
  intervalMs: INTERVAL,
  beatsPerSecond: Math.round((SESSIONS * 1000) / INTERVAL),
  cpuMicrosPerBeat: {
    monitor: +monitorUs.toFixed(2),
    baseline: +baselineUs.toFixed(2),
    ratio: +(monitorUs / baselineUs).toFixed(2),
  },
  timersPending: activeTimers,
  timersArmedPerSessionPerSecond: +timersArmedPerSessionSecond.toFixed(2),
  heapBytesPerSession: Math.round(heapPerSession),
  lapseLateMs: {
    count: lapses.length,
    p50: +percentile(lapses, 50).toFixed(1),
    p99: +percentile(lapses, 99).toFixed(1),
    max: +(lapses.at(-1) ?? Number.NaN).toFixed(1),
  },
};
out("");
out(
  `  CPU per beat     monitor ${result.cpuMicrosPerBeat.monitor} µs, baseline ${result.cpuMicrosPerBeat.baseline} µs (${result.cpuMicrosPerBeat.ratio}x; includes the driver loop)`,
);
out(
  `  timers           ${activeTimers} pending for ${SESSIONS} sessions; ${result.timersArmedPerSessionPerSecond} armed per session per second (beats: ${1000 / INTERVAL})`,
);
out(`  heap/session     ${result.heapBytesPerSession} B`);
out(
  `  lapse - deadline p50 ${result.lapseLateMs.p50} ms, p99 ${result.lapseLateMs.p99} ms, max ${result.lapseLateMs.max} ms (${lapses.length}/${lapsing.length})`,
);
process.stdout.write(`${JSON.stringify(result)}\n`);
