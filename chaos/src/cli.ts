/**
 * `pnpm chaos --minutes N [--seed S]`: two hub nodes on Redis, peer groups of protocol-level
 * streamers and players, a seeded schedule of faults, then the checker. Prints the seed, the
 * faults, the sessions and `N faults, M sessions, K invariant violations`; exits 1 when K > 0
 * (with each violation's history), 2 on a usage error or a run that could not start.
 * `--check <run dir>` checks a finished run's histories.json again (no processes started).
 */
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { check } from "./checker.js";
import type { Histories } from "./history.js";
import { report } from "./report.js";
import { runChaos } from "./run.js";

const USAGE = `Usage: pnpm chaos [--minutes N | --seconds N] [options]

Faults at random against two hub nodes on Redis, then a check of every history.
  --minutes <n>        how long faults are injected (default 1)
  --seconds <n>        the same in seconds (wins over --minutes)
  --seed <n>           the schedule's seed (default: random; printed, so a run can be repeated)
  --groups <n>         peer groups, each its own process (default 6)
  --streamers <n>      streamers per group (default 4)
  --players <n>        players per group, one session each at a time (default 16)
  --interval-ms <ms>   the hubs' heartbeat.intervalMs (default 1000)
  --missed-beats <n>   the hubs' heartbeat.missedBeats (default 3)
  --slack-ms <ms>      what the machine may add to any bound (default 1500 + interval)
  --no-netns           no network namespace (no partition or loss faults)
  --dir <path>         run directory for the histories and logs (default: a new one in /tmp)
  --check <dir>        check a finished run's histories.json again, start nothing
`;

function number(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) {
    process.stderr.write(`chaos: --${name} must be a number >= 0, not ${value}\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

function print(lines: string[]): void {
  process.stdout.write(`${lines.join("\n")}\n`);
}

let args;
try {
  args = parseArgs({
    options: {
      minutes: { type: "string" },
      seconds: { type: "string" },
      seed: { type: "string" },
      groups: { type: "string" },
      streamers: { type: "string" },
      players: { type: "string" },
      "interval-ms": { type: "string" },
      "missed-beats": { type: "string" },
      "slack-ms": { type: "string" },
      "no-netns": { type: "boolean" },
      dir: { type: "string" },
      check: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  }).values;
} catch (error) {
  process.stderr.write(`chaos: ${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (args.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

if (args.check !== undefined) {
  const histories = JSON.parse(readFileSync(join(args.check, "histories.json"), "utf8")) as Histories;
  const violations = check(histories);
  print(report(histories, violations));
  process.exit(violations.length > 0 ? 1 : 0);
}

const seed = number(args.seed, Math.floor(Math.random() * 2 ** 31), "seed");
const durationMs = Math.round(
  args.seconds !== undefined
    ? number(args.seconds, 60, "seconds") * 1000
    : number(args.minutes, 1, "minutes") * 60_000,
);
const intervalMs = number(args["interval-ms"], 1000, "interval-ms");
const runDir =
  args.dir ?? join(tmpdir(), `heartline-chaos-${new Date().toISOString().replace(/[:.]/g, "-")}-${seed}`);
// SIGINT, SIGTERM: exit, and the exit handler of run.ts kills what the run started.
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.on(signal, () => {
    process.stderr.write(
      `chaos: ${signal}; stopping every process of the run (histories so far in ${runDir})\n`,
    );
    process.exit(130);
  });

process.stdout.write(
  `chaos: seed ${seed}, ${(durationMs / 1000).toFixed(0)} s of faults (repeat with --seed ${seed})\n`,
);
try {
  const result = await runChaos({
    seed,
    durationMs,
    groups: number(args.groups, 6, "groups"),
    streamersPerGroup: number(args.streamers, 4, "streamers"),
    playersPerGroup: number(args.players, 16, "players"),
    intervalMs,
    missedBeats: number(args["missed-beats"], 3, "missed-beats"),
    pauseToleranceMs: Math.round(intervalMs * 1.5),
    slackMs: number(args["slack-ms"], 1500 + intervalMs, "slack-ms"),
    heapSlackBytes: 8 * 1024 * 1024,
    netns: args["no-netns"] !== true,
    lifetimeMs: [8 * intervalMs, 30 * intervalMs],
    runDir,
    progress: (line) => process.stdout.write(`chaos: ${line}\n`),
  });
  print(report(result.histories, result.violations));
  if (result.violations.length > 0) {
    process.stdout.write(
      `chaos: histories and logs kept in ${runDir} (check again with --check ${runDir})\n`,
    );
    process.exit(1);
  }
  // A clean run leaves nothing behind unless its directory was asked for.
  if (args.dir === undefined) rmSync(runDir, { recursive: true, force: true });
  process.exit(0);
} catch (error) {
  process.stderr.write(
    `chaos: the run could not be completed: ${(error as Error).message}\n(histories and logs so far in ${runDir})\n`,
  );
  process.exit(2);
}
