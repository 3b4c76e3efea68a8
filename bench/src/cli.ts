/**
 * `pnpm bench [options]`: heartline against a bare relay hub, under the same simulated load,
 * in the same run. Progress on stderr; tables on stdout; the full record as JSON (--out).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { buildReport, formatReport, type Report } from "./report.js";
import { runScenario, ScenarioError, type ScenarioOptions, type ScenarioResult } from "./scenario.js";
import { formatFailures, verdict, type BrokenScenario } from "./verdict.js";
import type { HubKind, Protocol } from "./protocol.js";
import type { ScenarioHub } from "./HubSet.js";

const USAGE = `Usage: pnpm bench [options]

Drives heartline and a bare relay hub (each in its own process) with simulated streamers and
players over 127.0.0.1, and reports relay RTT, echo RTT, hub CPU and memory per session,
false teardowns, subscribe-to-offer latency, connect time, the knee and teardown precision.

  --quick                    200 sessions at 1 Hz for 8 s on both hubs and on two heartline
                             nodes (as --cluster), 50 lapsed sessions each (< 1 min)
  --sessions <n,n,...>       session counts to run (default 1000)
  --interval <ms,ms,...>     heartbeat intervals to run (default 1000)
  --seconds <s>              measurement window per run (default 30)
  --ramp-seconds <s>         spread connections over this long (default: sessions/400, 3..60)
  --players-per-streamer <n> players per simulated streamer (default 100)
  --hubs <bare,heartline>    hubs to run (default both)
  --cluster                  also run heartline as two nodes on one redis-server: streamers on
                             node a, players on node b, every session across nodes
  --lapse <n>                after the window, make n heartline sessions lapse on purpose
  --knee <rate,rate,...>     relay rates (pings/s) to step through after the window
  --knee-seconds <s>         length of each knee step (default 10)
  --repeat <n>               run every hub n times, interleaved (bare, heartline, bare, ...),
                             and report the median and range (min-max) of every figure
                             (default 1; --repeats is the same)
  --protocol <native|pixelstreaming>
                             pixelstreaming: the same load over Epic's Pixel Streaming signalling
                             (plain ws) on heartline (--pixel-streaming-enabled) and on a bare ws
                             relay, beside native heartline and the bare hub with the same ICE
                             probe, all players at once (ramp 0), 10 s windows; medians over
                             --repeats (default native: the runs above)
  --quick-ps                 100 players on all four hubs, 2 s windows, once (< 30 s)
  --out <file>               JSON results (default bench-results/<timestamp>.json)
  -h, --help
`;

const list = (value: string | undefined, fallback: number[]) =>
  value === undefined ? fallback : value.split(",").map((v) => Number(v.trim()));

export interface BenchOptions {
  sessions: number[];
  intervals: number[];
  seconds: number;
  rampSeconds?: number;
  playersPerStreamer: number;
  hubs: HubKind[];
  /** After the hubs of each combination, heartline as two nodes of a cluster (heartline-x2). */
  cluster: boolean;
  lapse: number;
  knee: number[];
  kneeSeconds: number;
  /** Which comparison to run (default native: the options above). */
  protocol?: Protocol;
  /** Each hub this many times, interleaved (default 1). */
  repeats?: number;
}

/** What a bench run produced: the scenarios that finished, and the ones that broke. */
export interface BenchRun {
  results: ScenarioResult[];
  broken: BrokenScenario[];
}

/** Runs one scenario; one that throws is recorded as broken (which hub, step, last log lines). */
async function attempt(o: ScenarioOptions, run: BenchRun, log?: (line: string) => void): Promise<void> {
  try {
    run.results.push(await runScenario(o));
  } catch (error) {
    const e = error instanceof ScenarioError ? error : undefined;
    const broken: BrokenScenario = {
      hub: o.hub,
      repeat: o.repeat ?? 0,
      sessions: o.sessions,
      intervalMs: o.intervalMs,
      step: e?.step ?? "unknown",
      error: e ? String(e.cause instanceof Error ? e.cause.message : e.cause) : String(error),
      lastLog: e?.lastLog ?? [],
    };
    run.broken.push(broken);
    (log ?? ((line: string) => process.stderr.write(`${line}\n`)))(
      `[${o.hub} #${broken.repeat + 1}] FAILED at ${broken.step}: ${broken.error}`,
    );
  }
}

/** The hubs `--protocol pixelstreaming` runs, in the order of its first repeat. */
export const PS_HUBS: HubKind[] = ["bare", "heartline", "bare-ps", "heartline-ps"];

/** `--protocol pixelstreaming` without other flags. */
export const PIXEL_STREAMING: BenchOptions = {
  sessions: [200],
  intervals: [1000],
  seconds: 10,
  rampSeconds: 0,
  playersPerStreamer: 100,
  hubs: PS_HUBS,
  cluster: false,
  lapse: 0,
  knee: [],
  kneeSeconds: 10,
  protocol: "pixelstreaming",
  repeats: 1,
};

/** The smoke test's Pixel Streaming run: the four hubs once, short. */
export const QUICK_PS: BenchOptions = {
  ...PIXEL_STREAMING,
  sessions: [100],
  seconds: 2,
  playersPerStreamer: 50,
};

export const QUICK: BenchOptions = {
  sessions: [200],
  intervals: [1000],
  seconds: 8,
  rampSeconds: 2,
  playersPerStreamer: 50,
  hubs: ["bare", "heartline"],
  cluster: true,
  lapse: 50,
  knee: [],
  kneeSeconds: 5,
};

/**
 * Runs every (sessions, interval) combination `repeats` times, the hubs interleaved within
 * each repeat (bare, heartline, [heartline x2], bare, heartline, ...), so a box that slows
 * down or speeds up over the run touches every hub alike.
 */
export async function runBench(options: BenchOptions, log?: (line: string) => void): Promise<BenchRun> {
  const run: BenchRun = { results: [], broken: [] };
  if (options.protocol === "pixelstreaming") return runPixelStreaming(options, log);
  const repeats = Math.max(1, options.repeats ?? 1);
  for (const sessions of options.sessions) {
    for (const intervalMs of options.intervals) {
      const hubs: ScenarioHub[] = [...options.hubs, ...(options.cluster ? ["heartline-x2" as const] : [])];
      for (let repeat = 0; repeat < repeats; repeat++) {
        for (const hub of hubs) {
          await attempt(
            {
              hub,
              sessions,
              intervalMs,
              seconds: options.seconds,
              rampSeconds: options.rampSeconds ?? Math.min(60, Math.max(3, Math.round(sessions / 400))),
              playersPerStreamer: options.playersPerStreamer,
              kneeRates: options.knee,
              kneeStepSeconds: options.kneeSeconds,
              ...(repeats > 1 && { repeat }),
              ...(hub === "bare" ? {} : { lapse: options.lapse }),
              ...(log ? { log } : {}),
            },
            run,
            log,
          );
        }
      }
    }
  }
  return run;
}

/**
 * Every hub `repeats` times over the same load, interleaved (repeat r starts at hub r, so no hub
 * always runs first on a cooler box); every hub gets the ICE probe.
 */
async function runPixelStreaming(options: BenchOptions, log?: (line: string) => void): Promise<BenchRun> {
  const run: BenchRun = { results: [], broken: [] };
  const repeats = Math.max(1, options.repeats ?? 1);
  for (const sessions of options.sessions) {
    for (const intervalMs of options.intervals) {
      for (let repeat = 0; repeat < repeats; repeat++) {
        const n = options.hubs.length;
        const order = options.hubs.map((_, i) => options.hubs[(i + repeat) % n] ?? "bare");
        for (const hub of order) {
          await attempt(
            {
              hub,
              sessions,
              intervalMs,
              seconds: options.seconds,
              rampSeconds: options.rampSeconds ?? 0,
              playersPerStreamer: options.playersPerStreamer,
              iceProbe: true,
              repeat,
              ...(log ? { log } : {}),
            },
            run,
            log,
          );
        }
      }
    }
  }
  return run;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== "--"),
    options: {
      quick: { type: "boolean" },
      "quick-ps": { type: "boolean" },
      protocol: { type: "string" },
      repeats: { type: "string" },
      repeat: { type: "string" },
      sessions: { type: "string" },
      interval: { type: "string" },
      seconds: { type: "string" },
      "ramp-seconds": { type: "string" },
      "players-per-streamer": { type: "string" },
      hubs: { type: "string" },
      cluster: { type: "boolean" },
      lapse: { type: "string" },
      knee: { type: "string" },
      "knee-seconds": { type: "string" },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const protocol = values["quick-ps"] ? "pixelstreaming" : (values.protocol ?? "native");
  if (protocol !== "native" && protocol !== "pixelstreaming") {
    process.stderr.write(`--protocol must be native or pixelstreaming, not ${protocol}\n`);
    process.exit(2);
  }
  if (protocol === "pixelstreaming" && (values.cluster || values.lapse || values.knee)) {
    process.stderr.write("--protocol pixelstreaming has no --cluster, --lapse or --knee\n");
    process.exit(2);
  }
  const base: BenchOptions = values["quick-ps"]
    ? QUICK_PS
    : protocol === "pixelstreaming"
      ? PIXEL_STREAMING
      : values.quick
        ? QUICK
        : {
            sessions: [1000],
            intervals: [1000],
            seconds: 30,
            playersPerStreamer: 100,
            hubs: ["bare", "heartline"],
            cluster: false,
            lapse: 0,
            knee: [],
            kneeSeconds: 10,
          };
  const ramp = values["ramp-seconds"];
  const options: BenchOptions = {
    ...base,
    sessions: list(values.sessions, base.sessions),
    intervals: list(values.interval, base.intervals),
    seconds: values.seconds === undefined ? base.seconds : Number(values.seconds),
    ...(ramp === undefined ? {} : { rampSeconds: Number(ramp) }),
    playersPerStreamer: Number(values["players-per-streamer"] ?? base.playersPerStreamer),
    hubs: values.hubs === undefined ? base.hubs : (values.hubs.split(",") as HubKind[]),
    cluster: values.cluster ?? base.cluster,
    lapse: values.lapse === undefined ? base.lapse : Number(values.lapse),
    knee: list(values.knee, base.knee),
    kneeSeconds: values["knee-seconds"] === undefined ? base.kneeSeconds : Number(values["knee-seconds"]),
    ...(base.protocol && { protocol: base.protocol }),
    repeats: Number(values.repeat ?? values.repeats ?? base.repeats ?? 1),
  };
  if (!Number.isInteger(options.repeats) || (options.repeats ?? 0) < 1) {
    process.stderr.write(`--repeat must be a whole number of at least 1\n`);
    process.exit(2);
  }
  // Interrupted: exit through process.exit, so that the children go too (see HubSet).
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      process.stderr.write(`${signal}: stopping the bench\n`);
      process.exit(130);
    });
  }
  const startedAt = new Date();
  const run = await runBench(options);
  const report: Report = buildReport(startedAt, process.argv.slice(2), run.results, run.broken);
  const out = values.out ?? `bench-results/${startedAt.toISOString().replace(/[:.]/g, "-")}.json`;
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${formatReport(report)}\n\nresults: ${out}\n`);
  const v = verdict(run.results, run.broken);
  if (!v.ok) {
    // Loudly, on stderr too: a run with a failed scenario is not a measurement.
    process.stderr.write(`\n${formatFailures(v)}\n`);
    process.exitCode = 1;
  }
}

// Run as a script (`tsx bench/src/cli.ts`), not when the smoke test imports runBench.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  await main();
}
