/** The results as JSON (the record) and as tables (for people), with heartline / bare ratios. */
import { describeMachine, type Machine } from "./machine.js";
import type { ScenarioHub, ScenarioResult } from "./scenario.js";
import { median, ratio, spread, type Spread } from "./stats.js";
import type { Protocol } from "./protocol.js";
import {
  KNEE_P99_MS,
  formatFailures,
  relayedEnough,
  trustworthy,
  verdict,
  type BrokenScenario,
  type Verdict,
} from "./verdict.js";
import { goals, type Goal } from "./goals.js";

export interface Comparison {
  sessions: number;
  intervalMs: number;
  repeat: number;
  /** heartline CPU µs per relay / bare's. */
  cpuPerRelayRatio: number;
  heapPerSessionRatio: number;
  subscribeToOfferP50Ratio: number;
  /** heartline / bare, same load, same run. */
  rttP50Ratio: number;
  rttP99Ratio: number;
  /** heartline's relay p50 / heartline's echo p50. */
  relayOverEchoP50: number;
  heapPerSessionBytes: number;
}

/** heartline across two nodes against heartline on one, same load, same run. */
export interface CrossNodeComparison {
  sessions: number;
  intervalMs: number;
  repeat: number;
  /** heartline-x2 / heartline. */
  rttP50Ratio: number;
  rttP99Ratio: number;
  subscribeToOfferP50Ratio: number;
  /** Both nodes' CPU per relay / the single hub's (redis-server not included). */
  cpuPerRelayRatio: number;
  /** Both nodes' heap per session / the single hub's. */
  heapPerSessionRatio: number;
  /** `streamerList` messages pushed to the players while connecting: one node, two nodes. */
  streamerListsWhileConnecting: [number, number];
  /** The target: cross-node relay p50 within 2x of single-node. */
  p50WithinTwice: boolean;
}

export interface KneeSummary {
  hub: string;
  sessions: number;
  intervalMs: number;
  repeat: number;
  /** Highest measured relay rate whose p99 stayed under 50 ms and that relayed >= 99 % of its offer. */
  maxRateUnder50ms: number;
}

/** One hub's figures at one load over its trustworthy repeats: median and range of each. */
export interface HubSpread {
  hub: ScenarioHub;
  sessions: number;
  intervalMs: number;
  /** Repeats run, and how many of them failed (left out of the figures). */
  repeats: number;
  failedRepeats: number;
  figures: Record<string, Spread>;
}

/** heartline / bare (and two nodes / one) per repeat, as median and range over the repeats. */
export interface RatioSpread {
  sessions: number;
  intervalMs: number;
  of: ScenarioHub;
  to: ScenarioHub;
  ratios: Record<string, Spread>;
}

/** One hub's figures over the repeats of `--protocol pixelstreaming`: each the median of the repeats. */
export interface HubMedians {
  hub: ScenarioHub;
  protocol: Protocol;
  sessions: number;
  intervalMs: number;
  repeats: number;
  /** The fewest players subscribed in any repeat, and failures summed. */
  subscribedMin: number;
  failed: number;
  connectAllMs: number;
  subscribeToOfferP50: number;
  subscribeToOfferP99: number;
  iceRttP50: number;
  iceRttP99: number;
  echoP50: number;
  echoP99: number;
  hubCpuPercent: number;
  relayedPerSecond: number;
  cpuMicrosPerRelayedMessage: number;
  heapPerSessionBytes: number;
  /** Summed over the repeats. */
  falseTeardowns: number;
  disconnects: number;
}

/** `of` / `to`, each the median of the per-repeat ratios (both hubs of a repeat ran back to back). */
export interface PairRatios {
  sessions: number;
  intervalMs: number;
  of: ScenarioHub;
  to: ScenarioHub;
  repeats: number;
  connectAll: number;
  subscribeToOfferP50: number;
  subscribeToOfferP99: number;
  iceRttP50: number;
  iceRttP99: number;
  hubCpuPercent: number;
  cpuPerRelayedMessage: number;
  heapPerSession: number;
  connectAllPerRepeat: number[];
  subscribeToOfferP50PerRepeat: number[];
}

/** The issue's aim: heartline's Pixel Streaming endpoint no slower than its native protocol. */
export interface PsTarget {
  sessions: number;
  intervalMs: number;
  /** heartline-ps / heartline, medians of the per-repeat ratios. */
  subscribeToOfferP50Ratio: number;
  connectAllRatio: number;
  subscribeToOfferMet: boolean;
  connectAllMet: boolean;
}

export interface PixelStreamingSummary {
  hubs: HubMedians[];
  pairs: PairRatios[];
  targets: PsTarget[];
}

export interface Report {
  startedAt: string;
  machine: Machine;
  argv: string[];
  scenarios: ScenarioResult[];
  comparisons: Comparison[];
  crossNode: CrossNodeComparison[];
  knee: KneeSummary[];
  kneeRatio?: number;
  pixelStreaming?: PixelStreamingSummary;
  /** Scenarios that did not finish. */
  broken: BrokenScenario[];
  /** Whether the run may be believed, and every failure (verdict.ts). */
  verdict: Verdict;
  /** Pairs not compared because one side failed, and why. */
  notCompared: string[];
  spreads: HubSpread[];
  ratioSpreads: RatioSpread[];
  goals: Goal[];
}

/** The pairs `--protocol pixelstreaming` compares, the issue's first. */
const PAIRS: [ScenarioHub, ScenarioHub][] = [
  ["heartline-ps", "heartline"],
  ["heartline-ps", "bare-ps"],
  ["heartline", "bare"],
  ["bare-ps", "bare"],
];

function summarisePixelStreaming(scenarios: ScenarioResult[]): PixelStreamingSummary | undefined {
  if (!scenarios.some((s) => s.protocol === "pixelstreaming")) return undefined;
  const hubs: HubMedians[] = [];
  const pairs: PairRatios[] = [];
  const targets: PsTarget[] = [];
  const loads = [...new Set(scenarios.map((s) => `${s.sessions}@${s.intervalMs}`))];
  for (const load of loads) {
    const of = scenarios.filter((s) => `${s.sessions}@${s.intervalMs}` === load);
    const [sessions, intervalMs] = load.split("@").map(Number) as [number, number];
    for (const hub of [...new Set(of.map((s) => s.hub))]) {
      const runs = of.filter((s) => s.hub === hub);
      const m = (pick: (s: ScenarioResult) => number) => median(runs.map(pick));
      hubs.push({
        hub,
        protocol: runs[0]?.protocol ?? "native",
        sessions,
        intervalMs,
        repeats: runs.length,
        subscribedMin: Math.min(...runs.map((s) => s.subscribed)),
        failed: runs.reduce((n, s) => n + s.failed, 0),
        connectAllMs: m((s) => s.connectAllMs),
        subscribeToOfferP50: m((s) => s.subscribeToOffer.p50),
        subscribeToOfferP99: m((s) => s.subscribeToOffer.p99),
        iceRttP50: m((s) => s.steady.iceRtt.p50),
        iceRttP99: m((s) => s.steady.iceRtt.p99),
        echoP50: m((s) => s.steady.echo.p50),
        echoP99: m((s) => s.steady.echo.p99),
        hubCpuPercent: m((s) => s.steady.hubCpuPercent),
        relayedPerSecond: m((s) => s.steady.relayedPerSecond),
        cpuMicrosPerRelayedMessage: m((s) => s.steady.hubCpuMicrosPerRelayedMessage),
        heapPerSessionBytes: m((s) => s.heapPerSessionBytes),
        falseTeardowns: runs.reduce((n, s) => n + teardowns(s.falseTeardowns), 0),
        disconnects: runs.reduce((n, s) => n + s.disconnects, 0),
      });
    }
    for (const [a, b] of PAIRS) {
      const both = [...new Set(of.map((s) => s.repeat))].flatMap((repeat) => {
        const x = of.find((s) => s.hub === a && s.repeat === repeat);
        const y = of.find((s) => s.hub === b && s.repeat === repeat);
        return x && y ? [[x, y] as const] : [];
      });
      if (both.length === 0) continue;
      const r = (pick: (s: ScenarioResult) => number) => both.map(([x, y]) => ratio(pick(x), pick(y)));
      const connectAllPerRepeat = r((s) => s.connectAllMs);
      const subscribeToOfferP50PerRepeat = r((s) => s.subscribeToOffer.p50);
      pairs.push({
        sessions,
        intervalMs,
        of: a,
        to: b,
        repeats: both.length,
        connectAll: median(connectAllPerRepeat),
        subscribeToOfferP50: median(subscribeToOfferP50PerRepeat),
        subscribeToOfferP99: median(r((s) => s.subscribeToOffer.p99)),
        iceRttP50: median(r((s) => s.steady.iceRtt.p50)),
        iceRttP99: median(r((s) => s.steady.iceRtt.p99)),
        hubCpuPercent: median(r((s) => s.steady.hubCpuPercent)),
        cpuPerRelayedMessage: median(r((s) => s.steady.hubCpuMicrosPerRelayedMessage)),
        heapPerSession: median(r((s) => s.heapPerSessionBytes)),
        connectAllPerRepeat,
        subscribeToOfferP50PerRepeat,
      });
    }
    const target = pairs.find(
      (p) =>
        p.sessions === sessions &&
        p.intervalMs === intervalMs &&
        p.of === "heartline-ps" &&
        p.to === "heartline",
    );
    if (target) {
      targets.push({
        sessions,
        intervalMs,
        subscribeToOfferP50Ratio: target.subscribeToOfferP50,
        connectAllRatio: target.connectAll,
        subscribeToOfferMet: target.subscribeToOfferP50 <= 1,
        connectAllMet: target.connectAll <= 1,
      });
    }
  }
  return { hubs, pairs, targets };
}

/** The figures every hub's repeats are summarised by (median and range). */
const FIGURES: Record<string, (s: ScenarioResult) => number | undefined> = {
  "relays/s": (s) => s.steady.relaysPerSecond,
  "relay p50 ms": (s) => s.steady.rtt.p50,
  "relay p99 ms": (s) => s.steady.rtt.p99,
  "echo p50 ms": (s) => s.steady.echo.p50,
  "echo p99 ms": (s) => s.steady.echo.p99,
  "hub CPU %": (s) => s.steady.hubCpuPercent,
  "CPU µs/relay": (s) => s.steady.hubCpuMicrosPerRelay,
  "load CPU %": (s) => s.steady.loadCpuPercent,
  "heap KB/session": (s) => round1(s.heapPerSessionBytes / 1024),
  "RSS KB/session": (s) => round1(s.rssPerSessionBytes / 1024),
  "sub→offer p50 ms": (s) => s.subscribeToOffer.p50,
  "sub→offer p99 ms": (s) => s.subscribeToOffer.p99,
  "connect all s": (s) => round1(s.connectAllMs / 1000),
  "knee /s": (s) => (s.knee ? kneeOf(s) : undefined),
  "teardown late p50 ms": (s) => s.lapse?.lateness.p50,
  "teardown late p99 ms": (s) => s.lapse?.lateness.p99,
  "teardown late max ms": (s) => s.lapse?.lateness.max,
};

const round1 = (v: number) => Math.round(v * 10) / 10;

/** Highest relayed rate of a knee step that kept p99 under 50 ms and relayed its offer. */
export function kneeOf(s: ScenarioResult): number {
  const ok = (s.knee ?? [])
    .filter((k) => k.rtt.p99 < KNEE_P99_MS && relayedEnough(k))
    .map((k) => k.relaysPerSecond);
  return ok.length > 0 ? Math.max(...ok) : 0;
}

const loadKey = (s: { sessions: number; intervalMs: number }) => `${s.sessions}@${s.intervalMs}`;

export function buildReport(
  startedAt: Date,
  argv: string[],
  scenarios: ScenarioResult[],
  broken: BrokenScenario[] = [],
): Report {
  const notCompared: string[] = [];
  const name = (s: ScenarioResult) => `${label(s.hub)} #${s.repeat + 1} (${s.sessions} @${s.intervalMs} ms)`;
  /** The other side of a pair, if both finished and may be believed; else why not, noted. */
  const partner = (x: ScenarioResult, hub: ScenarioHub): ScenarioResult | undefined => {
    const y = scenarios.find((s) => s.hub === hub && loadKey(s) === loadKey(x) && s.repeat === x.repeat);
    const brokenY = broken.find((b) => b.hub === hub && loadKey(b) === loadKey(x) && b.repeat === x.repeat);
    if (!y) {
      if (brokenY) notCompared.push(`${name(x)} / ${hub}: ${hub} did not finish (${brokenY.step})`);
      return undefined;
    }
    const bad = [x, y].filter((s) => !trustworthy(s));
    if (bad.length > 0) {
      notCompared.push(`${name(x)} / ${label(hub)}: ${bad.map(name).join(" and ")} failed`);
      return undefined;
    }
    return y;
  };
  const comparisons: Comparison[] = [];
  for (const h of scenarios.filter((s) => s.hub === "heartline")) {
    const b = partner(h, "bare");
    if (!b) continue;
    comparisons.push({
      sessions: h.sessions,
      intervalMs: h.intervalMs,
      repeat: h.repeat,
      rttP50Ratio: ratio(h.steady.rtt.p50, b.steady.rtt.p50),
      rttP99Ratio: ratio(h.steady.rtt.p99, b.steady.rtt.p99),
      relayOverEchoP50: ratio(h.steady.rtt.p50, h.steady.echo.p50),
      heapPerSessionBytes: h.heapPerSessionBytes,
      cpuPerRelayRatio: ratio(h.steady.hubCpuMicrosPerRelay, b.steady.hubCpuMicrosPerRelay),
      heapPerSessionRatio: ratio(h.heapPerSessionBytes, b.heapPerSessionBytes),
      subscribeToOfferP50Ratio: ratio(h.subscribeToOffer.p50, b.subscribeToOffer.p50),
    });
  }
  const crossNode: CrossNodeComparison[] = [];
  for (const x of scenarios.filter((s) => s.hub === "heartline-x2")) {
    const h = partner(x, "heartline");
    if (!h) continue;
    const rttP50Ratio = ratio(x.steady.rtt.p50, h.steady.rtt.p50);
    crossNode.push({
      sessions: x.sessions,
      intervalMs: x.intervalMs,
      repeat: x.repeat,
      rttP50Ratio,
      rttP99Ratio: ratio(x.steady.rtt.p99, h.steady.rtt.p99),
      subscribeToOfferP50Ratio: ratio(x.subscribeToOffer.p50, h.subscribeToOffer.p50),
      cpuPerRelayRatio: ratio(x.steady.hubCpuMicrosPerRelay, h.steady.hubCpuMicrosPerRelay),
      heapPerSessionRatio: ratio(x.heapPerSessionBytes, h.heapPerSessionBytes),
      streamerListsWhileConnecting: [h.streamerListsWhileConnecting, x.streamerListsWhileConnecting],
      p50WithinTwice: rttP50Ratio <= 2,
    });
  }
  const knee: KneeSummary[] = [];
  for (const s of scenarios) {
    if (!s.knee || !trustworthy(s)) continue;
    knee.push({
      hub: s.hub,
      sessions: s.sessions,
      intervalMs: s.intervalMs,
      repeat: s.repeat,
      maxRateUnder50ms: kneeOf(s),
    });
  }
  const kneeRatios = knee
    .filter((k) => k.hub === "heartline")
    .flatMap((k) => {
      const b = knee.find((x) => x.hub === "bare" && loadKey(x) === loadKey(k) && x.repeat === k.repeat);
      return b ? [ratio(k.maxRateUnder50ms, b.maxRateUnder50ms)] : [];
    });
  const spreads: HubSpread[] = [];
  for (const load of [...new Set(scenarios.map(loadKey))]) {
    const atLoad = scenarios.filter((s) => loadKey(s) === load);
    for (const hub of [...new Set(atLoad.map((s) => s.hub))]) {
      const runs = atLoad.filter((s) => s.hub === hub);
      const good = runs.filter(trustworthy);
      const failedRepeats =
        runs.length - good.length + broken.filter((b) => b.hub === hub && loadKey(b) === load).length;
      const figures: Record<string, Spread> = {};
      for (const [figure, pick] of Object.entries(FIGURES)) {
        const values = good.map(pick).filter((v): v is number => v !== undefined);
        if (values.length > 0) figures[figure] = spread(values);
      }
      const first = runs[0];
      if (!first) continue;
      spreads.push({
        hub,
        sessions: first.sessions,
        intervalMs: first.intervalMs,
        repeats: runs.length + broken.filter((b) => b.hub === hub && loadKey(b) === load).length,
        failedRepeats,
        figures,
      });
    }
  }
  const ratioSpreads: RatioSpread[] = [];
  for (const load of [...new Set(comparisons.map(loadKey))]) {
    const cs = comparisons.filter((c) => loadKey(c) === load);
    const ks = kneeRatios.length > 0 && knee.some((k) => loadKey(k) === load) ? kneeRatiosAt(knee, load) : [];
    const [sessions, intervalMs] = load.split("@").map(Number) as [number, number];
    ratioSpreads.push({
      sessions,
      intervalMs,
      of: "heartline",
      to: "bare",
      ratios: {
        "CPU µs/relay": spread(cs.map((c) => c.cpuPerRelayRatio)),
        "heap/session": spread(cs.map((c) => c.heapPerSessionRatio)),
        "relay p50": spread(cs.map((c) => c.rttP50Ratio)),
        "relay p99": spread(cs.map((c) => c.rttP99Ratio)),
        "sub→offer p50": spread(cs.map((c) => c.subscribeToOfferP50Ratio)),
        ...(ks.length > 0 && { knee: spread(ks) }),
      },
    });
  }
  for (const load of [...new Set(crossNode.map(loadKey))]) {
    const cs = crossNode.filter((c) => loadKey(c) === load);
    const [sessions, intervalMs] = load.split("@").map(Number) as [number, number];
    ratioSpreads.push({
      sessions,
      intervalMs,
      of: "heartline-x2",
      to: "heartline",
      ratios: {
        "relay p50": spread(cs.map((c) => c.rttP50Ratio)),
        "relay p99": spread(cs.map((c) => c.rttP99Ratio)),
        "CPU µs/relay": spread(cs.map((c) => c.cpuPerRelayRatio)),
        "heap/session": spread(cs.map((c) => c.heapPerSessionRatio)),
        "sub→offer p50": spread(cs.map((c) => c.subscribeToOfferP50Ratio)),
      },
    });
  }
  const pixelStreaming = summarisePixelStreaming(scenarios);
  const v = verdict(scenarios, broken);
  return {
    startedAt: startedAt.toISOString(),
    machine: describeMachine(),
    argv,
    scenarios,
    comparisons,
    crossNode,
    knee,
    ...(kneeRatios.length > 0 && { kneeRatio: median(kneeRatios) }),
    ...(pixelStreaming && { pixelStreaming }),
    broken,
    verdict: v,
    notCompared,
    spreads,
    ratioSpreads,
    goals: goals(scenarios, ratioSpreads, v),
  };
}

function kneeRatiosAt(knee: KneeSummary[], load: string): number[] {
  return knee
    .filter((k) => k.hub === "heartline" && loadKey(k) === load)
    .flatMap((k) => {
      const b = knee.find((x) => x.hub === "bare" && loadKey(x) === load && x.repeat === k.repeat);
      return b ? [ratio(k.maxRateUnder50ms, b.maxRateUnder50ms)] : [];
    });
}

/** A Markdown table, columns padded to their widest cell. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(cell))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...cells.slice(1).map(line)].join("\n");
}

/** A number that is not one (no samples, a ratio to nothing) prints as n/a, never NaN. */
export const cell = (v: string | number): string =>
  typeof v === "number" ? (Number.isFinite(v) ? String(v) : "n/a") : v.replace(/NaN/g, "n/a");

/** "0.86 (0.70–1.20)"; one value alone; n/a for none. */
export const showSpread = (s: Spread | undefined): string =>
  !s || s.n === 0
    ? "n/a"
    : s.n === 1 || s.min === s.max
      ? cell(s.median)
      : `${cell(s.median)} (${cell(s.min)}–${cell(s.max)})`;

const kb = (bytes: number) => (Number.isFinite(bytes) ? (bytes / 1024).toFixed(1) : "n/a");
const label = (hub: ScenarioHub) => (hub === "heartline-x2" ? "heartline x2 nodes" : hub);
const teardowns = (t: Record<string, number>) => Object.values(t).reduce((a, b) => a + b, 0);

/** Markdown tables, so they paste into BENCHMARKS.md as they are. */
export function formatReport(report: Report): string {
  const out: string[] = [];
  if (!report.verdict.ok) out.push(formatFailures(report.verdict), "");
  const repeated = report.scenarios.some((s) => s.repeat > 0) || report.broken.some((b) => b.repeat > 0);
  const run = (s: ScenarioResult) => (repeated ? `${label(s.hub)} #${s.repeat + 1}` : label(s.hub));
  out.push(
    table(
      [
        "hub",
        "sessions",
        "interval ms",
        "relays/s",
        "relay p50",
        "relay p99",
        "echo p50",
        "echo p99",
        "relay/echo p50",
        "hub CPU %",
        "CPU µs/relay",
        "load CPU %",
        "heap KB/session",
        "RSS KB/session",
        "false teardowns",
        "sub→offer p50",
        "sub→offer p99",
        "connect all s",
        "verdict",
      ],
      report.scenarios.map((s) => [
        run(s),
        `${s.subscribed}/${s.sessions}`,
        s.intervalMs,
        s.steady.relaysPerSecond,
        s.steady.rtt.p50,
        s.steady.rtt.p99,
        s.steady.echo.p50,
        s.steady.echo.p99,
        ratio(s.steady.rtt.p50, s.steady.echo.p50),
        s.steady.hubCpuPercent,
        s.steady.hubCpuMicrosPerRelay,
        s.steady.loadCpuPercent,
        kb(s.heapPerSessionBytes),
        kb(s.rssPerSessionBytes),
        teardowns(s.falseTeardowns),
        s.subscribeToOffer.p50,
        s.subscribeToOffer.p99,
        (s.connectAllMs / 1000).toFixed(1),
        trustworthy(s) ? "ok" : "FAILED",
      ]),
    ),
  );
  for (const b of report.broken)
    out.push(
      `${label(b.hub)} #${b.repeat + 1} (${b.sessions} @${b.intervalMs} ms): did not finish, at ${b.step}`,
    );
  formatBox(report, out);
  if (report.spreads.length > 0 && repeated) {
    const names = [...new Set(report.spreads.flatMap((h) => Object.keys(h.figures)))];
    out.push("", "Medians over the repeats that held (range min–max):", "");
    out.push(
      table(
        ["hub", "sessions", "interval ms", "repeats (failed)", ...names],
        report.spreads.map((h) => [
          label(h.hub),
          h.sessions,
          h.intervalMs,
          `${h.repeats} (${h.failedRepeats})`,
          ...names.map((n) => showSpread(h.figures[n])),
        ]),
      ),
    );
  }
  if (report.comparisons.length > 0) {
    out.push("", "heartline / bare (same repeat, same load; only pairs where both held):", "");
    out.push(
      table(
        [
          "sessions",
          "interval ms",
          "repeat",
          "CPU µs/relay ratio",
          "heap/session ratio",
          "relay p50 ratio",
          "relay p99 ratio",
          "sub→offer p50 ratio",
          "heartline relay/echo p50",
        ],
        report.comparisons.map((c) => [
          c.sessions,
          c.intervalMs,
          c.repeat + 1,
          c.cpuPerRelayRatio,
          c.heapPerSessionRatio,
          c.rttP50Ratio,
          c.rttP99Ratio,
          c.subscribeToOfferP50Ratio,
          c.relayOverEchoP50,
        ]),
      ),
    );
  }
  if (report.ratioSpreads.length > 0) {
    const names = [...new Set(report.ratioSpreads.flatMap((r) => Object.keys(r.ratios)))];
    out.push("", "Ratios, median (range) over the repeats:", "");
    out.push(
      table(
        ["ratio", "sessions", "interval ms", ...names],
        report.ratioSpreads.map((r) => [
          `${label(r.of)} / ${label(r.to)}`,
          r.sessions,
          r.intervalMs,
          ...names.map((n) => showSpread(r.ratios[n])),
        ]),
      ),
    );
  }
  for (const line of report.notCompared) out.push(`not compared: ${line}`);
  if (report.goals.length > 0) {
    out.push("", "Goals (issue 12):", "");
    out.push(
      table(
        ["goal", "measured", "verdict"],
        report.goals.map((g) => [
          g.goal,
          g.measured,
          g.met === null ? "not measurable" : g.met ? "met" : "not met",
        ]),
      ),
    );
  }
  if (report.pixelStreaming) formatPixelStreaming(report.pixelStreaming, out);
  const clustered = report.scenarios.filter((s) => s.cluster);
  if (clustered.length > 0) {
    out.push(
      "",
      "heartline x2 nodes: streamers on node a, players on node b, one redis-server; hub CPU % and",
      "heap above are both nodes' sums. Each process:",
      "",
    );
    out.push(
      table(
        [
          "sessions",
          "interval ms",
          "CPU % a",
          "CPU % b",
          "redis CPU %",
          "heap KB/session a",
          "heap KB/session b",
          "subscribe retries",
          "b listed a's streamers after ms",
        ],
        clustered.map((s) => {
          const node = (id: string) => s.cluster?.nodes.find((n) => n.nodeId === id);
          return [
            s.sessions,
            s.intervalMs,
            s.steady.nodeCpuPercent?.a ?? "",
            s.steady.nodeCpuPercent?.b ?? "",
            s.steady.redisCpuPercent ?? "",
            kb(node("a")?.heapPerSessionBytes ?? Number.NaN),
            kb(node("b")?.heapPerSessionBytes ?? Number.NaN),
            s.subscribeRetries,
            s.cluster?.listedAfterMs ?? "",
          ];
        }),
      ),
    );
  }
  if (report.crossNode.length > 0) {
    out.push("", "heartline x2 nodes / heartline on one node (same run, same load):", "");
    out.push(
      table(
        [
          "sessions",
          "interval ms",
          "relay p50 ratio",
          "relay p99 ratio",
          "sub→offer p50 ratio",
          "CPU µs/relay ratio",
          "heap/session ratio",
          "streamerLists to players connecting, 1 / 2 nodes",
          "target: p50 within 2x",
        ],
        report.crossNode.map((c) => [
          c.sessions,
          c.intervalMs,
          c.rttP50Ratio,
          c.rttP99Ratio,
          c.subscribeToOfferP50Ratio,
          c.cpuPerRelayRatio,
          c.heapPerSessionRatio,
          c.streamerListsWhileConnecting.join(" / "),
          c.p50WithinTwice ? "met" : "not met",
        ]),
      ),
    );
  }
  const knees = report.scenarios.filter((s) => s.knee);
  if (knees.length > 0) {
    out.push("", "knee search (relay p99 by offered rate):", "");
    out.push(
      table(
        ["hub", "offered/s", "sent/s", "relayed/s", "p50", "p99", "echo p99", "hub CPU %", "load CPU %"],
        knees.flatMap((s) =>
          (s.knee ?? []).map((k) => [
            run(s),
            k.offeredPerSecond,
            k.sentPerSecond,
            k.relaysPerSecond,
            k.rtt.p50,
            k.rtt.p99,
            k.echo.p99,
            k.hubCpuPercent,
            k.loadCpuPercent,
          ]),
        ),
      ),
    );
    for (const k of report.knee)
      out.push(
        `highest relay rate with p99 < 50 ms (relaying >= 99 % of the offer), ${k.hub}${repeated ? ` #${k.repeat + 1}` : ""}: ${k.maxRateUnder50ms}/s`,
      );
    if (report.kneeRatio !== undefined)
      out.push(`heartline / bare (median over repeats): ${cell(report.kneeRatio)}`);
  }
  const lapses = report.scenarios.filter((s) => s.lapse);
  if (lapses.length > 0) {
    out.push("", "teardown precision (teardown at the player - deadline, ms):", "");
    out.push(
      table(
        ["hub", "sessions held", "lapsed", "p50", "p90", "p99", "max", "not closed", "reasons"],
        lapses.map((s) => [
          run(s),
          s.subscribed,
          s.lapse?.sessions ?? 0,
          s.lapse?.lateness.p50 ?? "",
          s.lapse?.lateness.p90 ?? "",
          s.lapse?.lateness.p99 ?? "",
          s.lapse?.lateness.max ?? "",
          s.lapse?.notClosed ?? 0,
          JSON.stringify(s.lapse?.reasons ?? {}),
        ]),
      ),
    );
  }
  return out.join("\n");
}

/** Connect failures by cause, and what limits the box while connecting (limits.ts). */
function formatBox(report: Report, out: string[]): void {
  const repeated = report.scenarios.some((s) => s.repeat > 0);
  const failing = report.scenarios.filter((s) => s.failed > 0 || Object.keys(s.connectFailures).length > 0);
  if (failing.length > 0) {
    out.push("", "Failed connects by cause:", "");
    out.push(
      table(
        ["hub", "sessions", "failed", "cause", "count"],
        failing.flatMap((s) =>
          Object.entries(s.connectFailures)
            .sort((a, b) => b[1] - a[1])
            .map(([cause, n]) => [
              repeated ? `${label(s.hub)} #${s.repeat + 1}` : label(s.hub),
              s.sessions,
              s.failed,
              cause,
              n,
            ]),
        ),
      ),
    );
  }
  const first = report.scenarios[0]?.box;
  if (!first) return;
  const ports = first.limits.ephemeralPorts;
  out.push(
    "",
    `What limits the box while connecting: ephemeral ports ${ports ? `${ports.low}-${ports.high} (${ports.count})` : "n/a"}, ` +
      `somaxconn ${cell(first.limits.somaxconn ?? Number.NaN)}, tcp_max_syn_backlog ${cell(first.limits.tcpMaxSynBacklog ?? Number.NaN)}, ` +
      `client handshake timeout ${first.handshakeTimeoutMs / 1000} s, offer deadline ramp + ${first.connectTimeoutMs / 1000} s`,
    "",
  );
  out.push(
    table(
      [
        "hub",
        "sessions",
        "fds: open peak / soft limit, per process",
        "hub CPU % connecting",
        "load CPU % connecting, per worker",
        "run-queue wait % connecting, per process",
        "TCP while connecting: listen overflows / drops / attempt fails / resets / RTOs",
        "sockets after connect: established / TIME_WAIT (before)",
      ],
      report.scenarios.map((s) => {
        const t = s.box.tcpWhileConnecting;
        return [
          repeated ? `${label(s.hub)} #${s.repeat + 1}` : label(s.hub),
          s.sessions,
          Object.entries(s.box.fds)
            .map(
              ([name, f]) => `${name} ${cell(f.peakOpen ?? Number.NaN)}/${cell(f.softLimit ?? Number.NaN)}`,
            )
            .join(", "),
          s.box.hubCpuPercentConnecting,
          s.box.loadCpuPercentConnectingByWorker.join(", "),
          Object.entries(s.box.runQueueWaitPercentConnecting)
            .map(([name, w]) => `${name} ${cell(w ?? Number.NaN)}`)
            .join(", "),
          t
            ? `${t.listenOverflows} / ${t.listenDrops} / ${t.attemptFails} / ${t.estabResets} / ${t.timeouts}`
            : "n/a",
          s.box.socketsAfterConnect
            ? `${s.box.socketsAfterConnect.established} / ${s.box.socketsAfterConnect.timeWait} (${s.box.socketsBefore?.timeWait ?? "n/a"})`
            : "n/a",
        ];
      }),
    ),
  );
}

/** The `--protocol pixelstreaming` tables: medians per hub, then the ratios and the target. */
function formatPixelStreaming(ps: PixelStreamingSummary, out: string[]): void {
  out.push(
    "",
    "Same load on every hub, medians over the repeats (ICE RTT: player -> hub -> streamer -> hub ->",
    "player; CPU µs per message the hub forwarded: natively pings, pongs and ICE, Pixel Streaming ICE):",
    "",
  );
  out.push(
    table(
      [
        "hub",
        "protocol",
        "sessions",
        "repeats",
        "subscribed (min)",
        "connect all ms",
        "sub→offer p50",
        "sub→offer p99",
        "ICE RTT p50",
        "ICE RTT p99",
        "echo p50",
        "echo p99",
        "hub CPU %",
        "relayed msg/s",
        "CPU µs/relayed msg",
        "heap KB/session",
        "false teardowns",
        "disconnects",
      ],
      ps.hubs.map((h) => [
        label(h.hub),
        h.protocol,
        h.sessions,
        h.repeats,
        h.subscribedMin,
        h.connectAllMs,
        h.subscribeToOfferP50,
        h.subscribeToOfferP99,
        h.iceRttP50,
        h.iceRttP99,
        h.echoP50,
        h.echoP99,
        h.hubCpuPercent,
        h.relayedPerSecond,
        h.cpuMicrosPerRelayedMessage,
        kb(h.heapPerSessionBytes),
        h.falseTeardowns,
        h.disconnects,
      ]),
    ),
  );
  out.push("", "Ratios, medians of the per-repeat ratios (hubs of one repeat ran back to back):", "");
  out.push(
    table(
      [
        "sessions",
        "ratio",
        "repeats",
        "connect all",
        "sub→offer p50",
        "sub→offer p99",
        "ICE RTT p50",
        "ICE RTT p99",
        "hub CPU %",
        "CPU/relayed msg",
        "heap/session",
        "connect all, each repeat",
        "sub→offer p50, each repeat",
      ],
      ps.pairs.map((p) => [
        p.sessions,
        `${p.of} / ${p.to}`,
        p.repeats,
        p.connectAll,
        p.subscribeToOfferP50,
        p.subscribeToOfferP99,
        p.iceRttP50,
        p.iceRttP99,
        p.hubCpuPercent,
        p.cpuPerRelayedMessage,
        p.heapPerSession,
        p.connectAllPerRepeat.join(", "),
        p.subscribeToOfferP50PerRepeat.join(", "),
      ]),
    ),
  );
  for (const t of ps.targets) {
    out.push(
      "",
      `target at ${t.sessions} players (heartline-ps / heartline <= 1): sub→offer p50 ${t.subscribeToOfferP50Ratio} (${t.subscribeToOfferMet ? "met" : "not met"}), connect all ${t.connectAllRatio} (${t.connectAllMet ? "met" : "not met"})`,
    );
  }
}
