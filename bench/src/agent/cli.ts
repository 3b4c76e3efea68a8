/**
 * `pnpm --filter @heartline/bench bench:agent [options]`: the streamer agent's CPU for 1 viewer
 * against 10 (one encode fanned out), and the time to the first decoded frame in Chromium.
 * Progress on stderr; the JSON record, then the tables, on stdout.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import type { Browser } from "playwright-core";
import { WORKSPACE_ROOT } from "@heartline/streamer-agent/src/testing/LoggedProcess.js";
import { CHROMIUM_PATH } from "@heartline/shared/testing";
import { describeMachine } from "../machine.js";
import { table } from "../report.js";
import { distribution } from "../stats.js";
import { measureWindow, summarize, type CpuSummary, type CpuWindow } from "./cpu.js";
import { firstFrameRuns, launchChromium, MARKS, type Marks } from "./firstFrame.js";
import { pidOf, startAgent, startHub, stopAll, stopProcess } from "./rig.js";

const USAGE = `Usage: pnpm --filter @heartline/bench bench:agent [options]

Starts the real hub (open mode) and a real streamer agent (--id bench, --loopback-only, test
pattern). Per video size: rounds of CPU windows alternating the viewer counts (werift viewers
in this process), CPU of the agent process tree (node + ffmpeg) and of the hub from /proc.
Then, at the first size, time to the first decoded frame in Chromium over fresh contexts.

  --seconds <s>          length of each CPU window (default 20)
  --rounds <n>           rounds of windows, each round one window per viewer count (default 3;
                         0: no CPU windows)
  --viewers <a,b>        viewer counts, alternated in each round (default 1,10)
  --sizes <WxH,...>      agent --size values, one agent run each (default 640x360)
  --browser-runs <n>     measured Chromium runs (default 7; 0: none), after one warm-up
  --chromium <path>      Chromium binary (default /usr/bin/chromium)
  --agent-arg <arg>      extra agent argument, repeatable (e.g. --agent-arg=--codec --agent-arg=h264)
  --out <file>           also write the JSON record to this file
  -h, --help             this text
`;

/** The whole run is bounded: past this, everything is stopped and the run fails. */
const DEADLINE_MS = 20 * 60_000;

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "20" },
    rounds: { type: "string", default: "3" },
    viewers: { type: "string", default: "1,10" },
    sizes: { type: "string", default: "640x360" },
    "browser-runs": { type: "string", default: "7" },
    chromium: { type: "string", default: CHROMIUM_PATH },
    "agent-arg": { type: "string", multiple: true, default: [] },
    out: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});

function positive(name: string, text: string, allowZero = false): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1))
    throw new Error(`--${name} wants an integer, got ${text}`);
  return n;
}

const progress = (line: string): void => {
  process.stderr.write(`[bench:agent ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

interface SizeResult {
  size: string;
  windows: CpuWindow[];
  summary: CpuSummary;
}

interface FirstFrameResult {
  runs: Marks[];
  /** Per mark, over the runs: ms since navigation start. */
  stats: { step: string; p50: number; min: number; max: number }[];
}

let browser: Browser | undefined;

async function cleanUp(): Promise<void> {
  await browser?.close().catch(() => undefined);
  browser = undefined;
  await stopAll();
}

async function main(): Promise<void> {
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const seconds = positive("seconds", values.seconds);
  const rounds = positive("rounds", values.rounds, true);
  const viewerCounts = values.viewers.split(",").map((v) => positive("viewers", v));
  const sizes = values.sizes.split(",");
  const browserRuns = positive("browser-runs", values["browser-runs"], true);
  const agentArgs = values["agent-arg"];
  const startedAt = new Date();

  if (browserRuns > 0 && !existsSync(`${WORKSPACE_ROOT}web-client/dist/index.html`))
    throw new Error("web-client/dist is missing: run pnpm --filter @heartline/web-client build first");

  const { hub, url } = await startHub();
  progress(`hub at ${url} (pid ${pidOf(hub)})`);
  const results: SizeResult[] = [];
  let firstFrame: FirstFrameResult | undefined;
  for (const [index, size] of sizes.entries()) {
    const agent = await startAgent(url, ["--size", size, ...agentArgs]);
    progress(`agent ${size} registered (pid ${pidOf(agent)})`);
    const settings = { hubUrl: url, agentPid: pidOf(agent), hubPid: pidOf(hub), seconds, settleSeconds: 3 };
    const windows: CpuWindow[] = [];
    for (let round = 1; round <= rounds; round++) {
      for (const viewers of viewerCounts) {
        const window = await measureWindow(settings, viewers);
        progress(`${size} round ${round}/${rounds}: ${JSON.stringify(window)}`);
        windows.push(window);
      }
    }
    if (windows.length > 0) results.push({ size, windows, summary: summarize(windows) });
    if (index === 0 && browserRuns > 0) {
      browser = await launchChromium(values.chromium);
      const runs = await firstFrameRuns(browser, url, browserRuns, progress);
      await browser.close();
      browser = undefined;
      firstFrame = { runs, stats: markStats(runs) };
    }
    await stopProcess(agent);
  }
  await cleanUp();

  const record = {
    startedAt: startedAt.toISOString(),
    machine: describeMachine(),
    argv: process.argv.slice(2),
    settings: { seconds, rounds, viewerCounts, sizes, browserRuns, agentArgs },
    cpu: results,
    firstFrame,
  };
  const json = JSON.stringify(record, null, 2);
  if (values.out !== undefined) {
    mkdirSync(dirname(values.out), { recursive: true });
    writeFileSync(values.out, json);
  }
  process.stdout.write(`${json}\n\n${format(results, firstFrame)}\n`);
}

function markStats(runs: Marks[]): FirstFrameResult["stats"] {
  const stats = (step: string, times: number[]) => ({
    step,
    p50: distribution(times).p50,
    min: Math.min(...times),
    max: Math.max(...times),
  });
  const defined = (times: (number | undefined)[]) => times.filter((t): t is number => t !== undefined);
  return [
    ...MARKS.map((mark) => stats(mark, defined(runs.map((r) => r[mark])))),
    // Mostly the wait for the next keyframe: the decoder can start at nothing else.
    stats(
      "firstPacket → firstFrame",
      defined(runs.map((r) => (r.firstFrame ?? Number.NaN) - (r.firstPacket ?? Number.NaN))).filter(
        (t) => !Number.isNaN(t),
      ),
    ),
  ];
}

function format(results: SizeResult[], firstFrame: FirstFrameResult | undefined): string {
  const out: string[] = [];
  const windowRows = results.flatMap(({ size, windows }) =>
    windows.map((w) => [
      size,
      w.viewers,
      w.seconds,
      w.agentNode,
      w.encoder,
      w.agentTotal,
      w.hub,
      w.viewerProcess,
      `${w.packetsPerSecond.min}-${w.packetsPerSecond.max}`,
    ]),
  );
  out.push(
    "CPU windows (% of one core)",
    table(
      [
        "size",
        "viewers",
        "s",
        "agent node",
        "ffmpeg",
        "agent total",
        "hub",
        "viewers' process",
        "RTP pkt/s per viewer",
      ],
      windowRows,
    ),
    "",
    "CPU medians (% of one core)",
    table(
      ["size", "viewers", "agent node", "ffmpeg", "agent total", "hub", "agent total ratio (most/fewest)"],
      results.flatMap(({ size, summary }) =>
        summary.medians.map((m, i) => [
          size,
          m.viewers,
          m.agentNode,
          m.encoder,
          m.agentTotal,
          m.hub,
          i === summary.medians.length - 1 ? summary.agentRatio : "",
        ]),
      ),
    ),
  );
  if (firstFrame) {
    out.push(
      "",
      `Chromium, ms since navigation start (${firstFrame.runs.length} runs)`,
      table(
        ["step", "p50", "min", "max"],
        firstFrame.stats.map((s) => [s.step, s.p50, s.min, s.max]),
      ),
    );
  }
  return out.join("\n");
}

let stopping = false;
process.on("SIGINT", () => {
  if (stopping) return;
  stopping = true;
  progress("SIGINT: stopping every child process");
  void cleanUp().finally(() => process.exit(130));
});

const deadline = setTimeout(() => {
  progress(`deadline of ${DEADLINE_MS / 60_000} min passed: stopping`);
  void cleanUp().finally(() => process.exit(1));
}, DEADLINE_MS);

main()
  .then(() => {
    clearTimeout(deadline);
    // werift sockets of closed viewers may linger; nothing else is left to wait for.
    process.exit(0);
  })
  .catch(async (error: unknown) => {
    progress(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    await cleanUp();
    process.exit(1);
  });
