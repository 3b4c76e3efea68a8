/** The results as JSON (the record) and as tables (for people), with heartline / bare ratios. */
import { describeMachine, type Machine } from "./machine.js";
import type { ScenarioHub, ScenarioResult } from "./scenario.js";
import { median, ratio } from "./stats.js";
import type { Protocol } from "./protocol.js";

export interface Comparison {
  sessions: number;
  intervalMs: number;
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
  /** Highest measured relay rate whose p99 stayed under 50 ms. */
  maxRateUnder50ms: number;
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

/** The aim: heartline's Pixel Streaming endpoint no slower than its native protocol. */
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
}

/** The pairs `--protocol pixelstreaming` compares, the first. */
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

export function buildReport(startedAt: Date, argv: string[], scenarios: ScenarioResult[]): Report {
  const comparisons: Comparison[] = [];
  for (const h of scenarios.filter((s) => s.hub === "heartline")) {
    const b = scenarios.find(
      (s) =>
        s.hub === "bare" &&
        s.sessions === h.sessions &&
        s.intervalMs === h.intervalMs &&
        s.repeat === h.repeat,
    );
    if (!b) continue;
    comparisons.push({
      sessions: h.sessions,
      intervalMs: h.intervalMs,
      rttP50Ratio: ratio(h.steady.rtt.p50, b.steady.rtt.p50),
      rttP99Ratio: ratio(h.steady.rtt.p99, b.steady.rtt.p99),
      relayOverEchoP50: ratio(h.steady.rtt.p50, h.steady.echo.p50),
      heapPerSessionBytes: h.heapPerSessionBytes,
    });
  }
  const crossNode: CrossNodeComparison[] = [];
  for (const x of scenarios.filter((s) => s.hub === "heartline-x2")) {
    const h = scenarios.find(
      (s) => s.hub === "heartline" && s.sessions === x.sessions && s.intervalMs === x.intervalMs,
    );
    if (!h) continue;
    const rttP50Ratio = ratio(x.steady.rtt.p50, h.steady.rtt.p50);
    crossNode.push({
      sessions: x.sessions,
      intervalMs: x.intervalMs,
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
    if (!s.knee) continue;
    const ok = s.knee.filter((k) => k.rtt.p99 < 50).map((k) => k.relaysPerSecond);
    knee.push({ hub: s.hub, maxRateUnder50ms: ok.length > 0 ? Math.max(...ok) : 0 });
  }
  const kb = knee.find((k) => k.hub === "bare");
  const kh = knee.find((k) => k.hub === "heartline");
  const pixelStreaming = summarisePixelStreaming(scenarios);
  return {
    startedAt: startedAt.toISOString(),
    machine: describeMachine(),
    argv,
    scenarios,
    comparisons,
    crossNode,
    knee,
    ...(kb && kh ? { kneeRatio: ratio(kh.maxRateUnder50ms, kb.maxRateUnder50ms) } : {}),
    ...(pixelStreaming && { pixelStreaming }),
  };
}

/** A Markdown table, columns padded to their widest cell. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...cells.slice(1).map(line)].join("\n");
}

const kb = (bytes: number) => (bytes / 1024).toFixed(1);
const label = (hub: ScenarioHub) => (hub === "heartline-x2" ? "heartline x2 nodes" : hub);
const teardowns = (t: Record<string, number>) => Object.values(t).reduce((a, b) => a + b, 0);

/** Markdown tables, so they paste into BENCHMARKS.md as they are. */
export function formatReport(report: Report): string {
  const out: string[] = [];
  const repeated = report.scenarios.some((s) => s.repeat > 0);
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
      ]),
    ),
  );
  if (report.comparisons.length > 0) {
    out.push("", "heartline / bare (same run, same load):", "");
    out.push(
      table(
        ["sessions", "interval ms", "relay p50 ratio", "relay p99 ratio", "heartline relay/echo p50"],
        report.comparisons.map((c) => [
          c.sessions,
          c.intervalMs,
          c.rttP50Ratio,
          c.rttP99Ratio,
          c.relayOverEchoP50,
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
        ["hub", "offered/s", "relayed/s", "p50", "p99", "echo p99", "hub CPU %", "load CPU %"],
        knees.flatMap((s) =>
          (s.knee ?? []).map((k) => [
            label(s.hub),
            k.offeredRate,
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
      out.push(`highest relay rate with p99 < 50 ms, ${k.hub}: ${k.maxRateUnder50ms}/s`);
    if (report.kneeRatio !== undefined) out.push(`heartline / bare: ${report.kneeRatio}`);
  }
  const lapses = report.scenarios.filter((s) => s.lapse);
  if (lapses.length > 0) {
    out.push("", "teardown precision (teardown at the player - deadline, ms):", "");
    out.push(
      table(
        ["hub", "sessions held", "lapsed", "p50", "p90", "p99", "max", "not closed", "reasons"],
        lapses.map((s) => [
          label(s.hub),
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
