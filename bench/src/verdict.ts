/**
 * Whether a run may be believed: pure functions over the recorded figures. A scenario fails if
 * its hub relayed less than 99 % of the offered rate in a window, lost sessions it should hold
 * (failed connects, dropped sockets, sessions torn down that the bench did not make lapse,
 * lapsed sessions never closed), or died. A failed scenario is no baseline: no ratio is taken
 * against it (report.ts), and the bench exits non-zero (cli.ts).
 */
import type { ScenarioHub, ScenarioResult, WindowResult } from "./scenario.js";

/** The least share of the offered relay rate a hub must relay in a window. */
export const RELAY_FLOOR = 0.99;
/** A knee step whose p99 passed this (ms) is past the knee: its shortfall is the finding. */
export const KNEE_P99_MS = 50;

export interface Failure {
  hub: ScenarioHub;
  repeat: number;
  sessions: number;
  intervalMs: number;
  /** Which step: "connecting", "window", "knee 3000/s", "lapse", or where a broken one stopped. */
  step: string;
  what: string;
  /** The hub's last lines of output. */
  lastLog: string[];
}

/** A scenario that threw (ScenarioError): no figures, just where and why. */
export interface BrokenScenario {
  hub: ScenarioHub;
  repeat: number;
  sessions: number;
  intervalMs: number;
  step: string;
  error: string;
  lastLog: string[];
}

export interface Verdict {
  ok: boolean;
  failures: Failure[];
}

const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/** A window relayed enough (NaN-safe: no samples at all is a shortfall). */
export function relayedEnough(w: Pick<WindowResult, "relaysPerSecond" | "offeredPerSecond">): boolean {
  return w.relaysPerSecond >= RELAY_FLOOR * w.offeredPerSecond;
}

/** A knee step past the knee: its p99 passed KNEE_P99_MS (with samples to say so). */
export function pastKnee(w: Pick<WindowResult, "rtt">): boolean {
  return w.rtt.count > 0 && w.rtt.p99 >= KNEE_P99_MS;
}

function shortfall(w: WindowResult): string {
  const share = w.offeredPerSecond > 0 ? Math.round((w.relaysPerSecond / w.offeredPerSecond) * 1000) / 10 : 0;
  return (
    `relayed ${w.relaysPerSecond}/s of ${w.offeredPerSecond}/s offered (${share} %, floor ${RELAY_FLOOR * 100} %); ` +
    `the load generator sent ${w.sentPerSecond}/s, ${w.rtt.count} round trips timed`
  );
}

/** Everything wrong with one finished scenario (empty: it may be believed). */
export function judgeScenario(r: ScenarioResult): Failure[] {
  const failures: Failure[] = [];
  const fail = (step: string, what: string) =>
    failures.push({
      hub: r.hub,
      repeat: r.repeat,
      sessions: r.sessions,
      intervalMs: r.intervalMs,
      step,
      what,
      lastLog: r.hubLog,
    });
  if (r.subscribed < r.sessions || r.failed > 0) {
    const causes = Object.entries(r.connectFailures)
      .sort((a, b) => b[1] - a[1])
      .map(([cause, n]) => `${n} × ${cause}`)
      .join("; ");
    fail(
      "connecting",
      `held ${r.subscribed} of ${r.sessions} sessions; failed connects: ${causes || "none recorded"}`,
    );
  }
  // Pixel Streaming hubs answer the heartbeat themselves: nothing relayed to hold against an offer.
  if (r.protocol === "native" && !relayedEnough(r.steady)) fail("window", shortfall(r.steady));
  if (r.protocol === "pixelstreaming" && !(r.steady.relayedPerSecond > 0))
    fail("window", "relayed no ICE probe at all");
  if (total(r.falseTeardowns) > 0)
    fail("window", `tore down sessions the bench did not make lapse: ${JSON.stringify(r.falseTeardowns)}`);
  if (r.disconnects > 0) fail("window", `${r.disconnects} sockets dropped`);
  for (const k of r.knee ?? []) {
    if (!relayedEnough(k) && !pastKnee(k)) fail(`knee ${k.offeredRate}/s`, shortfall(k));
  }
  if (r.lapse && r.lapse.notClosed > 0)
    fail("lapse", `${r.lapse.notClosed} of ${r.lapse.sessions} lapsed sessions were never closed`);
  return failures;
}

export function judgeBroken(b: BrokenScenario): Failure {
  return {
    hub: b.hub,
    repeat: b.repeat,
    sessions: b.sessions,
    intervalMs: b.intervalMs,
    step: b.step,
    what: `did not finish: ${b.error}`,
    lastLog: b.lastLog,
  };
}

export function verdict(results: ScenarioResult[], broken: BrokenScenario[] = []): Verdict {
  const failures = [...results.flatMap(judgeScenario), ...broken.map(judgeBroken)];
  return { ok: failures.length === 0, failures };
}

/** Whether this scenario may serve as a figure or a baseline. */
export function trustworthy(r: ScenarioResult): boolean {
  return judgeScenario(r).length === 0;
}

/** Failures for people: which hub, which step, what, and the hub's last log lines. */
export function formatFailures(v: Verdict): string {
  if (v.ok) return "";
  const out = [`BENCH FAILED: ${v.failures.length} failure(s); no ratio is taken against a failed scenario.`];
  for (const f of v.failures) {
    out.push(
      `- ${f.hub} #${f.repeat + 1} (${f.sessions} sessions @${f.intervalMs} ms), ${f.step}: ${f.what}`,
    );
    if (f.lastLog.length > 0) {
      out.push("  its last log lines:");
      for (const line of f.lastLog.slice(-10)) out.push(`    ${line}`);
    } else {
      out.push("  its last log lines: (none; the hub logged nothing at warn level)");
    }
  }
  return out.join("\n");
}
