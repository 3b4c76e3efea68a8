/**
 * `pnpm --filter @heartline/bench bench:adapters [options]`: the two socket.io Redis adapters
 * compared for relaying between hub nodes, on a real redis-server. Progress on stderr; the JSON
 * record and then the tables on stdout.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { buildAdapterReport, formatAdapterReport } from "./format.js";
import { killAllNodes } from "./NodeProcess.js";
import { killAllRedis } from "./rig.js";
import { runAll, type ScenarioSpec, type Settings } from "./scenario.js";

const USAGE = `Usage: pnpm --filter @heartline/bench bench:adapters [options]

Per adapter, a redis-server and two socket.io nodes (child processes) using the adapter.
Relay pairs ping through them: "cross" (streamer on node A, player on node B, relayed with
io.serverSideEmit over Redis), "local" (both on A, direct emit: the no-Redis baseline) and
"room" (both on A, io.to(room).emit through the adapter). Steady windows: cross + local
together, one window per rate, then room alone; the adapters take turns in 0.5 s slices so that
other load on the machine weighs on both alike. Then, one adapter at a time, redis-server is
SIGKILLed and restarted on its port while every pair keeps pinging. The pub/sub adapter runs
protected (pub client without offline queue, publish rejections caught); an unprotected
pub/sub run then plays an outage alone.

  --quick                         about 30 s: 10 Hz only, 4 s window, no room window,
                                  one 3 s outage, no unprotected run
  --pairs <n>                     relay pairs per group (default 100)
  --rates <hz,hz,...>             ping rates of the steady windows (default 1,10)
  --seconds <s>                   steady window per rate (default 15)
  --room-seconds <s>              room window at the highest rate (default 8; 0: none)
  --outage-seconds <s,s,...>      outages played per adapter: how long redis-server stays
                                  dead (default 5,12: short, then past ioredis' ~10.5 s of
                                  retries, when it gives up on queued commands)
  --unprotected-outage-seconds <s> the unprotected pub/sub run's outage (default 12; 0: none)
  --adapters <list>               pubsub,streams (default both)
  --out <file>                    also write the JSON record to this file
  -h, --help                      this text
`;

interface Plan {
  settings: Settings;
  outages: number[];
  unprotectedOutage: number;
}

const DEFAULTS: Plan = {
  settings: {
    pairs: 100,
    rates: [1, 10],
    windowSeconds: 15,
    roomSeconds: 8,
    warmupSeconds: 1,
    drainSeconds: 1,
    outage: { rateHz: 5, beforeSeconds: 1.5, afterSeconds: 3.5 },
  },
  outages: [5, 12],
  unprotectedOutage: 12,
};

const QUICK: Plan = {
  settings: {
    pairs: 100,
    rates: [10],
    windowSeconds: 4,
    roomSeconds: 0,
    warmupSeconds: 0.5,
    drainSeconds: 1,
    outage: { rateHz: 5, beforeSeconds: 1, afterSeconds: 2.5 },
  },
  outages: [3],
  unprotectedOutage: 0,
};

const started = performance.now();
const progress = (line: string): void => {
  process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);
};

/** Kills whatever this run started and is still running. Synchronous: fit for `exit`. */
function killEverything(): void {
  killAllNodes();
  killAllRedis();
}
process.on("exit", killEverything);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    progress(`${signal}: stopping`);
    killEverything();
    process.exit(130);
  });
}

/** A comma-separated list of non-negative numbers, or the fallback if absent. */
function numbers(value: string | undefined, fallback: number[]): number[] {
  if (value === undefined) return fallback;
  const list = value.split(",").map((v) => Number(v.trim()));
  if (list.some((n) => !Number.isFinite(n) || n < 0)) throw new Error(`not a list of numbers >= 0: ${value}`);
  return list;
}

function one(value: string | undefined, fallback: number): number {
  return numbers(value, [fallback])[0] ?? fallback;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== "--"),
    options: {
      quick: { type: "boolean" },
      pairs: { type: "string" },
      rates: { type: "string" },
      seconds: { type: "string" },
      "room-seconds": { type: "string" },
      "outage-seconds": { type: "string" },
      "unprotected-outage-seconds": { type: "string" },
      adapters: { type: "string" },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const plan = values.quick ? QUICK : DEFAULTS;
  const base = plan.settings;
  const settings: Settings = {
    ...base,
    pairs: Math.round(one(values.pairs, base.pairs)),
    rates: numbers(values.rates, base.rates),
    windowSeconds: one(values.seconds, base.windowSeconds),
    roomSeconds: one(values["room-seconds"], base.roomSeconds),
  };
  if (settings.pairs < 1 || settings.rates.some((r) => r <= 0))
    throw new Error("pairs and rates must be > 0");
  const outages = numbers(values["outage-seconds"], plan.outages);
  const unprotectedOutage = one(values["unprotected-outage-seconds"], plan.unprotectedOutage);
  const adapters = (values.adapters ?? "pubsub,streams").split(",").map((a) => a.trim());
  const specs: ScenarioSpec[] = adapters.map((adapter) => {
    if (adapter !== "pubsub" && adapter !== "streams") throw new Error(`unknown adapter: ${adapter}`);
    // pub/sub as we mean to run it in production; streams as its documentation sets it up.
    return { adapter, protect: adapter === "pubsub", steady: true, outages };
  });
  if (adapters.includes("pubsub") && unprotectedOutage > 0) {
    specs.push({ adapter: "pubsub", protect: false, steady: false, outages: [unprotectedOutage] });
  }

  const startedAt = new Date();
  const scenarios = await runAll(specs, settings, progress);
  const report = buildAdapterReport(startedAt, process.argv.slice(2), settings, scenarios);
  const json = `${JSON.stringify(report, null, 2)}\n`;
  if (values.out !== undefined) {
    mkdirSync(dirname(values.out), { recursive: true });
    writeFileSync(values.out, json);
  }
  process.stdout.write(`${json}\n${formatAdapterReport(report)}\n`);
  progress(`done in ${report.durationSeconds} s`);
}

try {
  await main();
} catch (error) {
  progress(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
} finally {
  killEverything();
}
