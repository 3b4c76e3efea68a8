/**
 * Issue 12's goals table, judged from one run's figures (pure): each goal this run measured,
 * with its measured median (and range), met or not. Ratios come only from pairs where both
 * scenarios may be believed (report.ts); a goal with none says so instead of a number.
 */
import type { RatioSpread } from "./report.js";
import type { ScenarioResult } from "./scenario.js";
import type { Spread } from "./stats.js";
import { trustworthy, type Verdict } from "./verdict.js";

export interface Goal {
  goal: string;
  measured: string;
  /** null: measured nothing to judge by (every pair had a failed side). */
  met: boolean | null;
}

const show = (s: Spread) =>
  s.n === 0 ? "n/a" : s.n === 1 || s.min === s.max ? `${s.median}` : `${s.median} (${s.min}–${s.max})`;

function ratioGoal(
  spreads: RatioSpread[],
  of: string,
  sessions: number,
  intervalMs: number,
  figure: string,
  goal: string,
  ok: (s: Spread) => boolean,
): Goal | undefined {
  const r = spreads.find((x) => x.of === of && x.sessions === sessions && x.intervalMs === intervalMs);
  const s = r?.ratios[figure];
  if (!r || !s) return undefined;
  if (s.n === 0) return { goal, measured: "n/a (no pair where both sides held)", met: null };
  return { goal, measured: `${show(s)} over ${s.n} repeat(s)`, met: ok(s) };
}

export function goals(scenarios: ScenarioResult[], spreads: RatioSpread[], v: Verdict): Goal[] {
  const out: (Goal | undefined)[] = [];
  const median = (max: number) => (s: Spread) => s.median <= max;
  out.push(
    ratioGoal(
      spreads,
      "heartline",
      1000,
      1000,
      "CPU µs/relay",
      "hub CPU per relay, 1,000 at 1 Hz ≤ 0.8× bare",
      median(0.8),
    ),
    ratioGoal(
      spreads,
      "heartline",
      10000,
      5000,
      "CPU µs/relay",
      "hub CPU per relay, 10,000 at 5 s ≤ 0.8× bare",
      median(0.8),
    ),
  );
  for (const r of spreads.filter((x) => x.of === "heartline"))
    out.push(
      ratioGoal(
        spreads,
        "heartline",
        r.sessions,
        r.intervalMs,
        "heap/session",
        `heap per session, ${r.sessions} at ${r.intervalMs} ms ≤ 1.0× bare`,
        median(1),
      ),
    );
  out.push(
    ratioGoal(
      spreads,
      "heartline",
      1000,
      1000,
      "relay p99",
      "relay p99, 1,000 at 1 Hz ≤ 1.0× bare",
      median(1),
    ),
    ratioGoal(
      spreads,
      "heartline",
      1000,
      1000,
      "knee",
      "knee (p99 < 50 ms), 1,000 at 1 Hz ≥ 1.25× bare",
      (s) => s.median >= 1.25,
    ),
    ratioGoal(
      spreads,
      "heartline-x2",
      1000,
      1000,
      "relay p50",
      "two nodes / one, relay p50 ≤ 1.5× in every run",
      (s) => s.max <= 1.5,
    ),
    ratioGoal(
      spreads,
      "heartline-x2",
      1000,
      1000,
      "CPU µs/relay",
      "two nodes / one, CPU per relay ≤ 1.5×",
      median(1.5),
    ),
  );
  const big = scenarios.filter((s) => s.hub === "heartline" && s.sessions === 19000 && s.intervalMs === 5000);
  if (big.length > 0 || v.failures.some((f) => f.hub === "heartline" && f.sessions === 19000)) {
    const held = big.map(
      (s) =>
        `${s.subscribed} held, ${s.failed} failed, ${Object.values(s.falseTeardowns).reduce((a, b) => a + b, 0)} false teardowns`,
    );
    out.push({
      goal: "19,000 sessions at 5 s: all held, 0 failed connects, 0 false teardowns",
      measured: held.length > 0 ? held.join("; ") : "did not finish",
      met: big.length > 0 && big.every(trustworthy),
    });
  }
  const lapses = scenarios.filter(
    (s) =>
      s.hub === "heartline" && s.sessions === 10000 && s.lapse && s.lapse.sessions >= 1000 && trustworthy(s),
  );
  if (lapses.length > 0) {
    const p99 = lapses.map((s) => s.lapse?.lateness.p99 ?? Number.NaN).sort((a, b) => a - b);
    const mid = p99[Math.floor(p99.length / 2)] ?? Number.NaN;
    out.push({
      goal: "teardown lateness, 10,000 sessions, 1,000 lapses: p99 ≤ 50 ms",
      measured: `p99 ${p99.join(", ")} ms`,
      met: mid <= 50,
    });
  }
  return out.filter((g): g is Goal => g !== undefined);
}
