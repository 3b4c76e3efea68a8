/** The run's report: the seed, the faults, the sessions, the violations, and the last line. */
import { INVARIANTS, sessionStories, type Violation } from "./checker.js";
import type { Histories } from "./history.js";

/** `N faults, M sessions, K invariant violations`: the report's last line. */
export function verdictLine(h: Histories, violations: readonly Violation[]): string {
  return `${h.faults.length} faults, ${sessionStories(h).size} sessions, ${violations.length} invariant violations`;
}

export function report(h: Histories, violations: readonly Violation[]): string[] {
  const lines: string[] = [`seed ${h.seed}`];
  const origin = h.faults[0]?.start ?? 0;
  const kinds = new Map<string, number>();
  for (const f of h.faults) kinds.set(f.kind, (kinds.get(f.kind) ?? 0) + 1);
  lines.push(`faults: ${[...kinds].map(([kind, n]) => `${n} ${kind}`).join(", ") || "none"}`);
  for (const f of h.faults) {
    const target =
      f.target === undefined ? "" : typeof f.target === "number" ? ` group ${f.target}` : ` node ${f.target}`;
    lines.push(
      `  #${f.id} +${((f.start - origin) / 1000).toFixed(1)}s ${f.kind}${target} ${f.end - f.start} ms`,
    );
  }
  const stories = sessionStories(h);
  const endings = new Map<string, number>();
  let open = 0;
  for (const s of stories.values()) {
    const close = s.closes.find((c) => c.t < h.stopAt);
    if (close) endings.set(close.reason, (endings.get(close.reason) ?? 0) + 1);
    else if (s.lost.length > 0)
      endings.set("(lost with its hub or link)", (endings.get("(lost with its hub or link)") ?? 0) + 1);
    else open++;
  }
  lines.push(
    `sessions: ${stories.size} (${open} open at the end; ended: ${[...endings].map(([r, n]) => `${n} ${r}`).join(", ") || "none"})`,
  );
  for (const v of violations) {
    lines.push(`VIOLATION ${INVARIANTS[v.invariant]}: ${v.message}`);
    for (const line of v.history.slice(0, 40)) lines.push(`    ${line}`);
  }
  lines.push(verdictLine(h, violations));
  return lines;
}
