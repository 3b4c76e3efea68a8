/** The results as JSON (the record) and as tables (for people), with heartline / bare ratios. */
import { cpus, loadavg, release, totalmem } from "node:os";
import type { ScenarioResult } from "./scenario.js";
import { ratio, round } from "./stats.js";

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

export interface KneeSummary {
  hub: string;
  /** Highest measured relay rate whose p99 stayed under 50 ms. */
  maxRateUnder50ms: number;
}

export interface Report {
  startedAt: string;
  machine: {
    cpus: number;
    cpuModel: string;
    memoryGiB: number;
    node: string;
    kernel: string;
    /** 1, 5 and 15 min load averages when the run ended: other work on the box skews results. */
    loadAverage: number[];
  };
  argv: string[];
  scenarios: ScenarioResult[];
  comparisons: Comparison[];
  knee: KneeSummary[];
  kneeRatio?: number;
}

export function buildReport(startedAt: Date, argv: string[], scenarios: ScenarioResult[]): Report {
  const comparisons: Comparison[] = [];
  for (const h of scenarios.filter((s) => s.hub === "heartline")) {
    const b = scenarios.find(
      (s) => s.hub === "bare" && s.sessions === h.sessions && s.intervalMs === h.intervalMs,
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
  const knee: KneeSummary[] = [];
  for (const s of scenarios) {
    if (!s.knee) continue;
    const ok = s.knee.filter((k) => k.rtt.p99 < 50).map((k) => k.relaysPerSecond);
    knee.push({ hub: s.hub, maxRateUnder50ms: ok.length > 0 ? Math.max(...ok) : 0 });
  }
  const kb = knee.find((k) => k.hub === "bare");
  const kh = knee.find((k) => k.hub === "heartline");
  const cpu = cpus();
  return {
    startedAt: startedAt.toISOString(),
    machine: {
      cpus: cpu.length,
      cpuModel: cpu[0]?.model ?? "unknown",
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      kernel: release(),
      loadAverage: loadavg().map(round),
    },
    argv,
    scenarios,
    comparisons,
    knee,
    ...(kb && kh ? { kneeRatio: ratio(kh.maxRateUnder50ms, kb.maxRateUnder50ms) } : {}),
  };
}

function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...cells.slice(1).map(line)].join("\n");
}

const kb = (bytes: number) => (bytes / 1024).toFixed(1);
const teardowns = (t: Record<string, number>) => Object.values(t).reduce((a, b) => a + b, 0);

/** Markdown tables, so they paste into BENCHMARKS.md as they are. */
export function formatReport(report: Report): string {
  const out: string[] = [];
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
        s.hub,
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
  const knees = report.scenarios.filter((s) => s.knee);
  if (knees.length > 0) {
    out.push("", "knee search (relay p99 by offered rate):", "");
    out.push(
      table(
        ["hub", "offered/s", "relayed/s", "p50", "p99", "echo p99", "hub CPU %", "load CPU %"],
        knees.flatMap((s) =>
          (s.knee ?? []).map((k) => [
            s.hub,
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
          s.hub,
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
