/** The adapter bench's record (JSON) and its tables (markdown, for people and RESULTS.md). */
import { describeMachine, type Machine } from "../machine.js";
import { round } from "../stats.js";
import { table } from "../report.js";
import type { Crash, GroupStats, ScenarioResult, Settings } from "./scenario.js";

export interface AdapterReport {
  startedAt: string;
  durationSeconds: number;
  machine: Machine;
  argv: string[];
  settings: Settings;
  scenarios: ScenarioResult[];
}

export function buildAdapterReport(
  startedAt: Date,
  argv: string[],
  settings: Settings,
  scenarios: ScenarioResult[],
): AdapterReport {
  return {
    startedAt: startedAt.toISOString(),
    durationSeconds: round((Date.now() - startedAt.getTime()) / 1000),
    machine: describeMachine(),
    argv,
    settings,
    scenarios,
  };
}

const ms = (value: number | null): string => (value === null || Number.isNaN(value) ? "-" : String(value));
/** "MaxRetriesPerRequestError" from "MaxRetriesPerRequestError: Reached the max ...". */
const errorName = (crash: Crash): string =>
  crash.error?.split(":")[0] ?? `exit code ${String(crash.code)}, signal ${String(crash.signal)}`;
const okOf = (s: GroupStats): string => `${s.answered}/${s.sent}`;
const tail = (s: GroupStats): string =>
  s.answered === 0 ? "-" : `${ms(s.rtt.p50)} / ${ms(s.rtt.p99)} / ${ms(s.rtt.max)}`;

export function formatAdapterReport(report: AdapterReport): string {
  const out: string[] = [];
  const { settings } = report;
  const steady = report.scenarios.flatMap((s) => s.steady.map((w) => ({ label: s.label, w })));
  if (steady.length > 0) {
    out.push(
      `Relay RTT, ms: ${settings.pairs} cross pairs (A→Redis→B→Redis→A) and ${settings.pairs} local pairs ` +
        `(both ends on A, direct emit) pinging together, ${settings.windowSeconds} s per rate:`,
      "",
      table(
        [
          "adapter",
          "Hz",
          "pings/s",
          "cross p50",
          "cross p99",
          "local p50",
          "local p99",
          "cross/local p50",
          "cross/local p99",
          "lost cross/local",
          "CPU A %",
          "CPU B %",
          "clients CPU %",
          "redis CPU %",
          "other CPU %",
        ],
        steady.map(({ label, w }) => [
          label,
          w.rateHz,
          w.pingsPerSecond,
          ms(w.groups.cross.rtt.p50),
          ms(w.groups.cross.rtt.p99),
          ms(w.groups.local.rtt.p50),
          ms(w.groups.local.rtt.p99),
          ms(w.crossOverLocal.p50),
          ms(w.crossOverLocal.p99),
          `${w.groups.cross.lost}/${w.groups.local.lost}`,
          w.cpu.nodeA,
          w.cpu.nodeB,
          w.cpu.clients,
          w.cpu.redis,
          w.cpu.other,
        ]),
      ),
      "",
    );
  }
  const rooms = report.scenarios.flatMap((s) => (s.room ? [{ label: s.label, w: s.room }] : []));
  if (rooms.length > 0) {
    out.push(
      `Room emit through the adapter, ms: ${settings.pairs} room pairs alone (both ends on A, ` +
        `io.to(room).emit), ${settings.roomSeconds} s:`,
      "",
      table(
        [
          "adapter",
          "Hz",
          "pings/s",
          "room p50",
          "room p99",
          "lost",
          "CPU A %",
          "CPU B %",
          "redis CPU %",
          "other CPU %",
        ],
        rooms.map(({ label, w }) => [
          label,
          w.rateHz,
          w.pingsPerSecond,
          ms(w.groups.room.rtt.p50),
          ms(w.groups.room.rtt.p99),
          w.groups.room.lost,
          w.cpu.nodeA,
          w.cpu.nodeB,
          w.cpu.redis,
          w.cpu.other,
        ]),
      ),
      "",
    );
  }
  const outages = report.scenarios.flatMap((s) => s.outages.map((o) => ({ label: s.label, o })));
  out.push(
    `Redis outages: redis-server SIGKILLed, restarted on its port after the time shown; every group ` +
      `pinging at ${settings.outage.rateHz} Hz (latencies in ms; "during" = pings sent while Redis was down):`,
    "",
    table(
      [
        "adapter",
        "Redis down s",
        "node crashed",
        "local during ok/sent",
        "local during p50/p99/max",
        "room during ok/sent",
        "room during p50/p99/max",
        "cross during ok/sent",
        "cross during p50/p99/max",
        "cross flows again, ms after restart",
        "cross lossless from, ms after restart",
        "publish errors caught A/B",
      ],
      outages.map(({ label, o }) => {
        const { cross, local, room } = o.groups;
        return [
          label,
          round(o.redisDownMs / 1000),
          o.crashes.length === 0
            ? "no"
            : o.crashes
                .map((c) => `${c.node} at +${round(c.afterKillMs / 1000)} s (${errorName(c)})`)
                .join("; "),
          okOf(local.during),
          tail(local.during),
          okOf(room.during),
          tail(room.during),
          okOf(cross.during),
          tail(cross.during),
          ms(cross.after.flowingAfterMs),
          ms(cross.after.losslessFromMs),
          `${o.counters.A?.publishErrorsCaught ?? "-"}/${o.counters.B?.publishErrorsCaught ?? "-"}`,
        ];
      }),
    ),
  );
  return out.join("\n");
}
