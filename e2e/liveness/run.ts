/**
 * `pnpm bench:liveness`: how long each heartbeat detector takes to find a dead end, and that it
 * never ends a live one, with the real hub, the real agent (ffmpeg + werift) and real Chromium
 * players at the default heartbeat (5 s interval, 3 beats).
 *
 * Faults, each repeated `--repeat` times with the two detectors interleaved (adaptive, fixed,
 * fixed, adaptive, ...) and the fault at a random phase of the beat (uniform over one interval):
 * - streamer-hung: `SIGSTOP` of the agent; time from the signal to the player showing the end;
 * - player-hung: the player page paused in its debugger (CDP `Debugger.pause`); time to the
 *   agent logging the end;
 * - agent-killed: `SIGKILL` of the agent with resume on; time to the player showing the end;
 * - partition: the agent in a network namespace, its link blackholed both ways (signaling and
 *   media); time until both ends know: the player shows the end (the hub told it) and the
 *   agent has given the session up or knows its hub link is gone (nothing can tell it);
 * - stalls: the agent stopped for 3 s every 20 s (`SIGSTOP`/`SIGCONT`) for `--stall-minutes`;
 *   counts false teardowns;
 * - signaling-outage: a 2 s nftables drop of the hub's TCP port (signaling only; media is UDP and
 *   keeps flowing); counts false teardowns and checks the video never stops;
 * - loss: the agent in a network namespace, `--loss-sessions` Chromium players (one tab each, of
 *   320x180 video at 15 fps), 20 % loss both ways (nftables) for `--loss-minutes`; counts false
 *   teardowns.
 *
 * Prints the distributions (median, min, max) per fault and detector, and writes them as JSON to
 * bench-results/. Every wait is bounded; the run stops by itself.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { chromium, type Browser, type Page } from "@playwright/test";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "@heartline/shared/testing";
import {
  startAgent,
  startHub,
  type HubProcess,
  type LogLine,
  type Managed,
} from "../tests/support/processes.js";
import { handle, openPlayer, videoStats, waitForState } from "../tests/support/player.js";
import { Netns } from "../tests/support/netns.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const INTERVAL_MS = 5000;
const DETECTORS = ["adaptive", "fixed"] as const;
type Detector = (typeof DETECTORS)[number];
const FAULTS = [
  "streamer-hung",
  "player-hung",
  "agent-killed",
  "partition",
  "stalls",
  "signaling-outage",
  "loss",
] as const;
type Fault = (typeof FAULTS)[number];

const { values } = parseArgs({
  options: {
    repeat: { type: "string", default: "5" },
    only: { type: "string" },
    "stall-minutes": { type: "string", default: "5" },
    "loss-minutes": { type: "string", default: "10" },
    "loss-sessions": { type: "string", default: "10" },
  },
});
const repeat = Number(values.repeat);
const stallMinutes = Number(values["stall-minutes"]);
const lossMinutes = Number(values["loss-minutes"]);
const lossSessions = Number(values["loss-sessions"]);
const faults: Fault[] = values.only ? (values.only.split(",") as Fault[]) : [...FAULTS];
for (const fault of faults)
  if (!FAULTS.includes(fault)) throw new Error(`unknown fault '${fault}'; one of ${FAULTS.join(", ")}`);

interface Trial {
  fault: Fault;
  detector: Detector;
  /** ms from the fault to the end being shown on the far end (detection faults). */
  detectedMs?: number;
  reason?: string;
  /** Sessions ended while they should have lived (false-teardown faults). */
  falseTeardowns?: number;
  /** A trial that went worse than expected: the hub's lines about it, for the report. */
  hubLines?: LogLine[];
  /** signaling-outage: decoded frames did not advance during the outage. */
  videoStopped?: boolean;
  note?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const progress = (text: string): void => {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${text}\n`);
};

const closedLine = (logs: LogLine[], sessionId: string | null): LogLine | undefined =>
  logs.find((l) => l.msg === "session closed" && l.sessionId === sessionId);

/** Waits for `probe()` to return a value, up to `timeoutMs`. */
async function until<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(50);
  }
  return undefined;
}

async function playerEndedAt(
  page: Page,
  timeoutMs: number,
): Promise<{ at: number; reason: string } | undefined> {
  return until(async () => {
    const h = await handle(page).catch(() => undefined);
    return h?.state === "ended" ? { at: Date.now(), reason: h.closeReason ?? "" } : undefined;
  }, timeoutMs);
}

interface Rig {
  hub: HubProcess;
  agent: Managed;
  page: Page;
  sessionId: string;
  streamerId: string;
  close(): Promise<void>;
}

let counter = 0;
async function rig(browser: Browser, detector: Detector): Promise<Rig> {
  const streamerId = `live-${process.pid}-${++counter}`;
  const hub = await startHub(["--heartbeat-detector", detector, "--log-level", "info"]);
  const agent = await startAgent(hub.url, streamerId);
  const context = await browser.newContext({ viewport: { width: 640, height: 400 } });
  const page = await context.newPage();
  await openPlayer(page, hub.url, streamerId);
  await waitForState(page, "live", 30_000);
  const { sessionId } = await handle(page);
  if (sessionId === null) throw new Error("the player is live without a session id");
  return {
    hub,
    agent,
    page,
    sessionId,
    streamerId,
    close: async () => {
      await context.close().catch(() => undefined);
      await agent.stop();
      await hub.stop();
    },
  };
}

/** A random phase of the beat, after a few beats so the detector has some history. */
const settle = (): Promise<void> => sleep(3 * INTERVAL_MS + Math.random() * INTERVAL_MS);

async function detectionTrial(browser: Browser, fault: Fault, detector: Detector): Promise<Trial> {
  const r = await rig(browser, detector);
  try {
    await settle();
    const bound = 3 * INTERVAL_MS + 5000;
    const faultAt = Date.now();
    if (fault === "streamer-hung" || fault === "agent-killed") {
      r.agent.signal(fault === "streamer-hung" ? "SIGSTOP" : "SIGKILL");
      const ended = await playerEndedAt(r.page, bound);
      if (fault === "streamer-hung") r.agent.signal("SIGCONT");
      if (!ended) return { fault, detector, note: `the player did not show the end within ${bound} ms` };
      const detectedMs = ended.at - faultAt;
      // A kill should be found by the media check in about a second; keep the evidence when not.
      const evidence =
        fault === "agent-killed" && detectedMs > 3000
          ? {
              hubLines: r.hub.logs.filter(
                (l) => l.sessionId === r.sessionId || l.msg === "peer away" || l.msg === "media report",
              ),
            }
          : {};
      return { fault, detector, detectedMs, reason: ended.reason, ...evidence };
    }
    // player-hung: the page's JavaScript stops at its next statement (the next hub message).
    const cdp = await r.page.context().newCDPSession(r.page);
    await cdp.send("Debugger.enable");
    const paused = Date.now();
    await cdp.send("Debugger.pause");
    const closed = await until(() => closedLine(r.agent.logs, r.sessionId), bound);
    await cdp.send("Debugger.resume").catch(() => undefined);
    if (!closed) return { fault, detector, note: `the agent did not end the session within ${bound} ms` };
    return { fault, detector, detectedMs: (closed.time as number) - paused, reason: String(closed.reason) };
  } finally {
    await r.close();
  }
}

/** The hub on the host and the agent in a fresh network namespace: faults go on the link between. */
async function namespaced(
  detector: Detector,
  streamerId: string,
  hubArgs: string[] = [],
  agentArgs: string[] = [],
): Promise<{ netns: Netns; hub: HubProcess; agent: Managed; close: () => Promise<void> }> {
  const netns = new Netns("heartline-liveness", 3);
  netns.destroy();
  netns.create();
  const hub = await startHub([
    "--heartbeat-detector",
    detector,
    "--log-level",
    "info",
    "--host",
    netns.hostAddress,
    ...hubArgs,
  ]);
  const agent = await netns.startAgent(hub.url, streamerId, agentArgs);
  return {
    netns,
    hub,
    agent,
    close: async () => {
      await agent.stop();
      await hub.stop();
      netns.destroy();
    },
  };
}

async function partitionTrial(browser: Browser, detector: Detector): Promise<Trial> {
  const streamerId = `partition-${detector}-${++counter}`;
  const { netns, hub, agent, close } = await namespaced(detector, streamerId);
  const context = await browser.newContext({ viewport: { width: 640, height: 400 } });
  try {
    const page = await context.newPage();
    await openPlayer(page, hub.url, streamerId);
    await waitForState(page, "live", 30_000);
    const { sessionId } = await handle(page);
    await settle();
    const bound = 3 * INTERVAL_MS + 5000;
    const faultAt = Date.now();
    netns.partition();
    const ended = await playerEndedAt(page, bound);
    // The agent cannot be told: it knows once it gave the session up or lost its hub link.
    const agentKnew = await until(
      () =>
        agent.logs.find(
          (l) =>
            (l.msg === "session closed" && l.sessionId === sessionId) ||
            l.msg === "lost the hub connection; keeping the sessions for a resume",
        ),
      bound,
    );
    netns.heal();
    if (!ended)
      return { fault: "partition", detector, note: `the player did not show the end within ${bound} ms` };
    const agentMs = agentKnew ? (agentKnew.time as number) - faultAt : undefined;
    const playerMs = ended.at - faultAt;
    return {
      fault: "partition",
      detector,
      ...(agentMs === undefined ? {} : { detectedMs: Math.max(playerMs, agentMs) }),
      reason: ended.reason,
      note: `player told after ${playerMs} ms; agent ${agentMs === undefined ? `knew nothing within ${bound} ms` : `knew after ${agentMs} ms (${String(agentKnew?.msg)})`}`,
    };
  } finally {
    netns.heal();
    await context.close().catch(() => undefined);
    await close();
  }
}

async function stallsTrial(browser: Browser, detector: Detector): Promise<Trial> {
  const r = await rig(browser, detector);
  try {
    await settle();
    const rounds = Math.max(1, Math.round((stallMinutes * 60_000) / 20_000));
    for (let i = 0; i < rounds; i++) {
      r.agent.signal("SIGSTOP");
      await sleep(3000);
      r.agent.signal("SIGCONT");
      await sleep(17_000);
      if (closedLine(r.hub.logs, r.sessionId)) break;
      progress(`  stalls (${detector}): ${i + 1}/${rounds} stalls survived`);
    }
    const closed = closedLine(r.hub.logs, r.sessionId);
    return {
      fault: "stalls",
      detector,
      falseTeardowns: closed ? 1 : 0,
      ...(closed ? { reason: String(closed.reason) } : {}),
      note: `${rounds} stalls of 3 s, one every 20 s`,
    };
  } finally {
    r.agent.signal("SIGCONT");
    await r.close();
  }
}

function nft(args: string[]): void {
  execFileSync("nft", args, { stdio: ["ignore", "ignore", "pipe"] });
}

async function outageTrial(browser: Browser, detector: Detector): Promise<Trial> {
  const r = await rig(browser, detector);
  const table = `heartline_liveness_${process.pid}`;
  const port = new URL(r.hub.url).port;
  try {
    await settle();
    const before = (await videoStats(r.page)).framesDecoded;
    nft(["add", "table", "inet", table]);
    nft(["add", "chain", "inet", table, "out", "{ type filter hook output priority 0 ; }"]);
    nft(["add", "rule", "inet", table, "out", "tcp", "dport", port, "drop"]);
    nft(["add", "rule", "inet", table, "out", "tcp", "sport", port, "drop"]);
    await sleep(1000);
    const during = (await videoStats(r.page)).framesDecoded;
    await sleep(1000);
    nft(["delete", "table", "inet", table]);
    const after = (await videoStats(r.page)).framesDecoded;
    // Long enough for any wrong verdict to land: past the fixed timeout.
    await sleep(3 * INTERVAL_MS + 2000);
    const closed = closedLine(r.hub.logs, r.sessionId);
    return {
      fault: "signaling-outage",
      detector,
      falseTeardowns: closed ? 1 : 0,
      ...(closed ? { reason: String(closed.reason) } : {}),
      videoStopped: !(during > before && after > during),
    };
  } finally {
    try {
      nft(["delete", "table", "inet", table]);
    } catch {
      // Already gone.
    }
    await r.close();
  }
}

async function lossTrial(browser: Browser, detector: Detector): Promise<Trial> {
  const streamerId = `loss-${detector}`;
  const { netns, hub, close } = await namespaced(
    detector,
    streamerId,
    // Every player page connects from the host's address, to one streamer.
    [
      "--max-players",
      String(lossSessions + 10),
      "--limits-connections-per-ip",
      String(2 * lossSessions + 20),
    ],
    // Small, slow video: a hundred Chromium players decoding it fit on a 2-core box.
    ["--size", "320x180", "--fps", "15", "--bitrate", "300"],
  );
  const context = await browser.newContext({ viewport: { width: 320, height: 200 } });
  try {
    const sessions: string[] = [];
    for (let i = 0; i < lossSessions; i++) {
      const page = await context.newPage();
      await openPlayer(page, hub.url, streamerId);
      await waitForState(page, "live", 30_000);
      const { sessionId } = await handle(page);
      if (sessionId !== null) sessions.push(sessionId);
    }
    await settle();
    netns.loss(20);
    const until = Date.now() + lossMinutes * 60_000;
    let minute = 0;
    while (Date.now() < until) {
      await sleep(Math.min(60_000, until - Date.now()));
      minute++;
      const ended = sessions.filter((id) => closedLine(hub.logs, id)).length;
      progress(
        `  loss (${detector}): ${minute}/${lossMinutes} min, ${ended} of ${sessions.length} sessions ended`,
      );
    }
    const dropped = netns.dropped();
    const closed = sessions.flatMap((id) => {
      const line = closedLine(hub.logs, id);
      return line ? [String(line.reason)] : [];
    });
    return {
      fault: "loss",
      detector,
      falseTeardowns: closed.length,
      ...(closed.length ? { reason: [...new Set(closed)].join(", ") } : {}),
      note: `${sessions.length} sessions, ${lossMinutes} min at 20 % loss; dropped ${dropped.host} packets host side, ${dropped.ns} namespace side`,
    };
  } finally {
    await context.close().catch(() => undefined);
    await close();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? Number.NaN)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

async function main(): Promise<void> {
  progress(`liveness: ${faults.join(", ")}; ${repeat} repeats per detector; default heartbeat (5 s x 3)`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"],
  });
  const trials: Trial[] = [];
  try {
    for (let i = 0; i < repeat; i++) {
      // Interleaved, and alternating which detector goes first.
      const order = i % 2 === 0 ? DETECTORS : [...DETECTORS].reverse();
      for (const fault of faults) {
        // One long run per detector is the soak; the rest repeat.
        if ((fault === "stalls" || fault === "loss") && i > 0) continue;
        for (const detector of order) {
          progress(`${fault} (${detector}), repeat ${i + 1}/${repeat}…`);
          const trial =
            fault === "stalls"
              ? await stallsTrial(browser, detector)
              : fault === "loss"
                ? await lossTrial(browser, detector)
                : fault === "partition"
                  ? await partitionTrial(browser, detector)
                  : fault === "signaling-outage"
                    ? await outageTrial(browser, detector)
                    : await detectionTrial(browser, fault, detector);
          progress(`  ${JSON.stringify(trial)}`);
          trials.push(trial);
        }
      }
    }
  } finally {
    await browser.close();
  }

  const lines = [
    "| fault | detector | n | median | min | max | reasons | false teardowns |",
    "|---|---|---|---|---|---|---|---|",
  ];
  for (const fault of faults) {
    for (const detector of DETECTORS) {
      const mine = trials.filter((t) => t.fault === fault && t.detector === detector);
      if (mine.length === 0) continue;
      const times = mine.flatMap((t) => (t.detectedMs === undefined ? [] : [t.detectedMs]));
      const reasons = [...new Set(mine.flatMap((t) => (t.reason ? [t.reason] : [])))].join(", ") || "–";
      const falses = mine.reduce((sum, t) => sum + (t.falseTeardowns ?? 0), 0);
      const failed = mine.filter(
        (t) => t.note !== undefined && t.detectedMs === undefined && t.falseTeardowns === undefined,
      );
      const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
      lines.push(
        `| ${fault} | ${detector} | ${mine.length} | ${times.length ? s(median(times)) : "–"} | ${times.length ? s(Math.min(...times)) : "–"} | ${times.length ? s(Math.max(...times)) : "–"} | ${reasons} | ${fault === "stalls" || fault === "signaling-outage" || fault === "loss" ? `${falses}${mine.some((t) => t.videoStopped) ? " (video stopped)" : ""}` : failed.length ? `${failed.length} not detected` : "–"} |`,
      );
    }
  }
  const report = lines.join("\n");
  process.stdout.write(`${report}\n`);
  mkdirSync(`${ROOT}/bench-results`, { recursive: true });
  const file = `${ROOT}/bench-results/liveness-${new Date().toISOString().replace(/[:.]/g, "-")}.json`;
  writeFileSync(file, JSON.stringify({ intervalMs: INTERVAL_MS, repeat, trials }, null, 2));
  progress(`wrote ${file}`);
}

await main();
