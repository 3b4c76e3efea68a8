/**
 * The measurements. Steady windows run every rig at once, interleaved in short slices (A B B A
 * ...): only one rig pings at a time, and whatever else runs on the machine meanwhile weighs on
 * every adapter alike. The outages are then played one rig at a time.
 */
import { readdirSync, readFileSync } from "node:fs";
import { cpus } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { distribution, ratio, round, type Distribution } from "../stats.js";
import type { PingRecord } from "./load.js";
import { cpuSecondsOf } from "./NodeProcess.js";
import { GROUPS, type Group, type NodeCounters } from "./protocol.js";
import { Rig, rigLabel, type RigSpec } from "./rig.js";

/** Length of one slice of a steady window, s. */
const SLICE_SECONDS = 0.5;
/** Pause after a slice, for its last pongs to land before the next rig pings. */
const SLICE_GAP_MS = 30;

export interface ScenarioSpec extends RigSpec {
  /** Take part in the steady windows; when false only the outages are played. */
  steady: boolean;
  /** One Redis outage per entry, in turn: how long redis-server stays dead, s. */
  outages: number[];
}

export interface Settings {
  /** Relay pairs per group (cross, local, room). */
  pairs: number;
  /** Ping rates of the steady cross + local windows, Hz. */
  rates: number[];
  windowSeconds: number;
  /** Then a window of the room pairs alone at the highest rate (0: none). */
  roomSeconds: number;
  warmupSeconds: number;
  drainSeconds: number;
  outage: {
    /** Every group pings at this rate during an outage run. */
    rateHz: number;
    beforeSeconds: number;
    /** How long the pairs keep pinging after Redis is back. */
    afterSeconds: number;
  };
}

export interface GroupStats {
  sent: number;
  answered: number;
  lost: number;
  /** Round trips of the answered pings, ms. */
  rtt: Distribution;
}

export interface CpuPercent {
  nodeA: number;
  nodeB: number;
  /** The parent: all clients. */
  clients: number;
  redis: number;
  /** Whole machine, all cores (100 = every core busy). */
  machine: number;
  /** Everything else on the machine (other processes, the kernel), % of one core: noise. */
  other: number;
}

export interface SteadyResult {
  rateHz: number;
  seconds: number;
  pingsPerSecond: number;
  /** Groups that did not ping in this window have `sent: 0`. */
  groups: Record<Group, GroupStats>;
  /** cross / local, same window. */
  crossOverLocal: { p50: number; p99: number };
  cpu: CpuPercent;
}

export interface OutageGroup {
  /** Pings sent before the kill. */
  before: GroupStats;
  /** Pings sent while Redis was down; `rtt` over those answered, whenever that was. */
  during: GroupStats & { answeredWhileDown: number; answeredAfterRestart: number };
  /** Pings sent after Redis was ready again. */
  after: GroupStats & {
    /** First pong for a ping sent after the restart: when it arrived, ms after the restart. */
    flowingAfterMs: number | null;
    /** Every ping sent from this long after the restart on was answered, ms. */
    losslessFromMs: number | null;
  };
}

export interface Crash {
  node: string;
  code: number | null;
  signal: string | null;
  /** ms after redis-server was killed. */
  afterKillMs: number;
  error?: string;
}

export interface OutageResult {
  /** How long redis-server was meant to stay dead, s. */
  downSeconds: number;
  /** How long it was dead: kill to ready again, ms. */
  redisDownMs: number;
  rateHz: number;
  crashes: Crash[];
  groups: Record<Group, OutageGroup>;
  /** Each node's counters after the outage (undefined: the node is gone). */
  counters: Record<string, NodeCounters | undefined>;
  /** Pongs received twice for one ping. */
  duplicates: number;
}

export interface ScenarioResult {
  label: string;
  adapter: RigSpec["adapter"];
  protect: boolean;
  steady: SteadyResult[];
  /** Room pairs alone: io.to(room).emit through the adapter, both ends on node A. */
  room: SteadyResult | null;
  outages: OutageResult[];
}

function stats(records: PingRecord[]): GroupStats {
  const rtts: number[] = [];
  for (const r of records) if (r.answeredAt !== undefined) rtts.push(r.answeredAt - r.sentAt);
  return {
    sent: records.length,
    answered: rtts.length,
    lost: records.length - rtts.length,
    rtt: distribution(rtts),
  };
}

function byGroup<T>(make: (group: Group) => T): Record<Group, T> {
  return { cross: make("cross"), local: make("local"), room: make("room") };
}

const sentIn = (records: PingRecord[], group: Group, from: number, to: number): PingRecord[] =>
  records.filter((r) => r.group === group && r.sentAt >= from && r.sentAt < to);

interface Span {
  from: number;
  to: number;
}

const sentInSpans = (records: PingRecord[], group: Group, spans: Span[]): PingRecord[] =>
  records.filter((r) => r.group === group && spans.some((s) => r.sentAt >= s.from && r.sentAt < s.to));

interface CpuSnapshot {
  at: number;
  nodeA: number;
  nodeB: number;
  clients: number;
  redis: number;
  busy: number;
  total: number;
}

/** The pid of the redis-server listening on `port` (it names itself `redis-server 127.0.0.1:<port>`). */
function redisPid(port: number): number | undefined {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (cmdline.startsWith("redis-server") && cmdline.includes(`:${port}`)) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

function snapshot(rig: Rig): CpuSnapshot {
  let busy = 0;
  let total = 0;
  for (const { times } of cpus()) {
    busy += times.user + times.nice + times.sys + times.irq;
    total += times.user + times.nice + times.sys + times.irq + times.idle;
  }
  const usage = process.cpuUsage();
  return {
    at: performance.now(),
    nodeA: rig.a.cpuSeconds(),
    nodeB: rig.b.cpuSeconds(),
    clients: (usage.user + usage.system) / 1e6,
    redis: cpuSecondsOf(redisPid(rig.redis.port)),
    busy,
    total,
  };
}

/** CPU used over the slices of one rig, added up. */
class CpuMeter {
  readonly #sum: Omit<CpuSnapshot, "at"> & { seconds: number } = {
    seconds: 0,
    nodeA: 0,
    nodeB: 0,
    clients: 0,
    redis: 0,
    busy: 0,
    total: 0,
  };

  add(from: CpuSnapshot, to: CpuSnapshot): void {
    const sum = this.#sum;
    sum.seconds += (to.at - from.at) / 1000;
    sum.nodeA += to.nodeA - from.nodeA;
    sum.nodeB += to.nodeB - from.nodeB;
    sum.clients += to.clients - from.clients;
    sum.redis += to.redis - from.redis;
    sum.busy += to.busy - from.busy;
    sum.total += to.total - from.total;
  }

  get seconds(): number {
    return this.#sum.seconds;
  }

  percent(): CpuPercent {
    const sum = this.#sum;
    const pct = (s: number) => round((100 * s) / Math.max(1e-9, sum.seconds));
    const nodeA = pct(sum.nodeA);
    const nodeB = pct(sum.nodeB);
    const clients = pct(sum.clients);
    const redis = pct(sum.redis);
    const machine = round((100 * sum.busy) / Math.max(1, sum.total));
    const other = round(Math.max(0, machine * cpus().length - nodeA - nodeB - clients - redis));
    return { nodeA, nodeB, clients, redis, machine, other };
  }
}

/**
 * One steady window for every rig: `seconds` of pinging each, in slices taken in turn, so that
 * no two rigs ever ping at once.
 */
async function interleavedWindow(
  rigs: Rig[],
  groups: readonly Group[],
  rateHz: number,
  seconds: number,
  settings: Settings,
): Promise<SteadyResult[]> {
  const meters = rigs.map(() => new CpuMeter());
  const spans = rigs.map((): Span[] => []);
  for (const rig of rigs) {
    rig.load.clear();
    rig.load.start(rateHz, groups);
    await sleep(settings.warmupSeconds * 1000);
    rig.load.stop();
  }
  const slices = Math.max(1, Math.round(seconds / SLICE_SECONDS));
  for (let i = 0; i < slices; i++) {
    const order = rigs.map((_, k) => k);
    if (i % 2 === 1) order.reverse();
    for (const k of order) {
      const rig = rigs[k];
      if (!rig) continue;
      const from = snapshot(rig);
      rig.load.start(rateHz, groups);
      await sleep(SLICE_SECONDS * 1000);
      rig.load.stop();
      const to = snapshot(rig);
      meters[k]?.add(from, to);
      spans[k]?.push({ from: from.at, to: to.at });
      await sleep(SLICE_GAP_MS);
    }
  }
  await sleep(settings.drainSeconds * 1000);
  return rigs.map((rig, k) => {
    const meter = meters[k] ?? new CpuMeter();
    const stat = byGroup((group) => stats(sentInSpans(rig.load.records, group, spans[k] ?? [])));
    const sent = GROUPS.reduce((n, g) => n + stat[g].sent, 0);
    return {
      rateHz,
      seconds: round(meter.seconds),
      pingsPerSecond: Math.round(sent / Math.max(1e-9, meter.seconds)),
      groups: stat,
      crossOverLocal: {
        p50: ratio(stat.cross.rtt.p50, stat.local.rtt.p50),
        p99: ratio(stat.cross.rtt.p99, stat.local.rtt.p99),
      },
      cpu: meter.percent(),
    };
  });
}

function outageGroup(records: PingRecord[], group: Group, t: OutageTimes): OutageGroup {
  const during = sentIn(records, group, t.killed, t.restarted);
  const after = sentIn(records, group, t.restarted, t.stopped);
  const arrivals = after.flatMap((r) => (r.answeredAt === undefined ? [] : [r.answeredAt]));
  let lastLost = -1;
  after.forEach((r, i) => {
    if (r.answeredAt === undefined) lastLost = i;
  });
  const losslessFrom = after[lastLost + 1];
  const answered = during.filter((r) => r.answeredAt !== undefined);
  return {
    before: stats(sentIn(records, group, t.started, t.killed)),
    during: {
      ...stats(during),
      answeredWhileDown: answered.filter((r) => (r.answeredAt ?? 0) < t.restarted).length,
      answeredAfterRestart: answered.filter((r) => (r.answeredAt ?? 0) >= t.restarted).length,
    },
    after: {
      ...stats(after),
      flowingAfterMs: arrivals.length > 0 ? round(Math.min(...arrivals) - t.restarted) : null,
      losslessFromMs: losslessFrom ? round(Math.max(0, losslessFrom.sentAt - t.restarted)) : null,
    },
  };
}

interface OutageTimes {
  started: number;
  killed: number;
  restarted: number;
  stopped: number;
}

async function outage(
  rig: Rig,
  downSeconds: number,
  settings: Settings,
  log: (line: string) => void,
): Promise<OutageResult> {
  const { load, redis, nodes } = rig;
  const { rateHz, beforeSeconds, afterSeconds } = settings.outage;
  load.clear();
  load.start(rateHz, GROUPS);
  await sleep(settings.warmupSeconds * 1000);
  const started = performance.now();
  await sleep(beforeSeconds * 1000);
  // Pings sent from here on meet a dying Redis: they count as sent during the outage.
  const killed = performance.now();
  await redis.kill();
  log(`redis-server SIGKILLed; down for ${downSeconds} s`);
  await sleep(downSeconds * 1000);
  await redis.restart();
  const restarted = performance.now();
  log(`redis-server back on the same port after ${round((restarted - killed) / 1000)} s`);
  await sleep(afterSeconds * 1000);
  const stopped = performance.now();
  load.stop();
  await sleep(settings.drainSeconds * 1000);
  const times: OutageTimes = { started, killed, restarted, stopped };
  const crashes: Crash[] = [];
  for (const node of nodes) {
    const exit = node.exit;
    if (!exit) continue;
    crashes.push({
      node: node.name,
      code: exit.code,
      signal: exit.signal,
      afterKillMs: round(exit.at - killed),
      ...(exit.error === undefined ? {} : { error: exit.error }),
    });
  }
  const counters: Record<string, NodeCounters | undefined> = {};
  for (const node of nodes) counters[node.name] = await node.counters();
  return {
    downSeconds,
    redisDownMs: round(restarted - killed),
    rateHz,
    crashes,
    groups: byGroup((group) => outageGroup(load.records, group, times)),
    counters,
    duplicates: load.duplicates,
  };
}

async function outages(rig: Rig, spec: ScenarioSpec, settings: Settings, log: (line: string) => void) {
  const results: OutageResult[] = [];
  for (const downSeconds of spec.outages) {
    log(`outage of ${downSeconds} s, all groups pinging at ${settings.outage.rateHz} Hz`);
    const result = await outage(rig, downSeconds, settings, log);
    results.push(result);
    if (result.crashes.length > 0) {
      const what = result.crashes.map((c) => `${c.node} (${c.error ?? `code ${String(c.code)}`})`);
      log(`outage of ${downSeconds} s: crashed: ${what.join(", ")}`);
      break;
    }
    log(`outage of ${downSeconds} s: both nodes survived`);
  }
  return results;
}

/**
 * Every scenario: the rigs that take part in the steady windows start together and are measured
 * interleaved; then each plays its outages and closes; then the outage-only rigs, one at a time.
 * Every rig is closed when this returns or throws.
 */
export async function runAll(
  specs: ScenarioSpec[],
  settings: Settings,
  progress: (line: string) => void,
): Promise<ScenarioResult[]> {
  const logFor = (spec: RigSpec) => (line: string) => {
    progress(`[${rigLabel(spec)}] ${line}`);
  };
  const results = new Map<ScenarioSpec, ScenarioResult>();
  for (const spec of specs) {
    results.set(spec, {
      label: rigLabel(spec),
      adapter: spec.adapter,
      protect: spec.protect,
      steady: [],
      room: null,
      outages: [],
    });
  }
  const open = new Set<Rig>();
  try {
    const steadySpecs = specs.filter((s) => s.steady);
    const rigs: Rig[] = [];
    for (const spec of steadySpecs) {
      const rig = await Rig.start(spec, settings.pairs, logFor(spec));
      open.add(rig);
      rigs.push(rig);
    }
    const labels = rigs.map((r) => r.label).join(" | ");
    if (rigs.length > 0) {
      for (const rateHz of settings.rates) {
        progress(
          `steady: cross + local at ${rateHz} Hz, ${settings.windowSeconds} s each, interleaved: ${labels}`,
        );
        const windows = await interleavedWindow(
          rigs,
          ["cross", "local"],
          rateHz,
          settings.windowSeconds,
          settings,
        );
        windows.forEach((w, k) => {
          const spec = steadySpecs[k];
          if (!spec) return;
          results.get(spec)?.steady.push(w);
          const { cross, local } = w.groups;
          logFor(spec)(
            `${rateHz} Hz: cross p50/p99 ${cross.rtt.p50}/${cross.rtt.p99} ms, local ` +
              `${local.rtt.p50}/${local.rtt.p99} ms, other CPU ${w.cpu.other} %`,
          );
        });
      }
      if (settings.roomSeconds > 0) {
        const rateHz = Math.max(...settings.rates);
        progress(
          `steady: room alone at ${rateHz} Hz, ${settings.roomSeconds} s each, interleaved: ${labels}`,
        );
        const windows = await interleavedWindow(rigs, ["room"], rateHz, settings.roomSeconds, settings);
        windows.forEach((w, k) => {
          const spec = steadySpecs[k];
          const result = spec && results.get(spec);
          if (!spec || !result) return;
          result.room = w;
          logFor(spec)(`room ${rateHz} Hz: p50/p99 ${w.groups.room.rtt.p50}/${w.groups.room.rtt.p99} ms`);
        });
      }
    }
    for (const [k, rig] of rigs.entries()) {
      const spec = steadySpecs[k];
      if (!spec) continue;
      const result = results.get(spec);
      if (result) result.outages = await outages(rig, spec, settings, logFor(spec));
      open.delete(rig);
      await rig.close();
    }
    for (const spec of specs.filter((s) => !s.steady)) {
      const rig = await Rig.start(spec, settings.pairs, logFor(spec));
      open.add(rig);
      const result = results.get(spec);
      if (result) result.outages = await outages(rig, spec, settings, logFor(spec));
      open.delete(rig);
      await rig.close();
    }
  } finally {
    for (const rig of open) await rig.close();
  }
  return specs.flatMap((spec) => results.get(spec) ?? []);
}
