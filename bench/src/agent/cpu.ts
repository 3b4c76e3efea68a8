/**
 * Agent CPU against viewer count: windows of equal length with N werift viewers (TestPlayer)
 * each receiving the agent's one encoded stream, alternating the counts round by round.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { TestPlayer } from "@heartline/streamer-agent/src/testing/TestPlayer.js";
import { distribution, ratio, round } from "../stats.js";
import { cpuBetween, sampleTree } from "./procCpu.js";
import { STREAMER_ID } from "./rig.js";

export interface CpuSettings {
  hubUrl: string;
  agentPid: number;
  hubPid: number;
  seconds: number;
  /** Seconds between every viewer receiving RTP and the start of the window. */
  settleSeconds: number;
}

/** One window. CPU in % of one core. */
export interface CpuWindow {
  viewers: number;
  seconds: number;
  /** The agent's node process. */
  agentNode: number;
  /** Its descendants: ffmpeg. */
  encoder: number;
  agentTotal: number;
  hub: number;
  /** This process: the werift viewers, which share the two cores with the agent. */
  viewerProcess: number;
  /** RTP packets per second each viewer received: min and max over the viewers. */
  packetsPerSecond: { min: number; max: number };
}

function cpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

export async function measureWindow(settings: CpuSettings, viewers: number): Promise<CpuWindow> {
  const players = Array.from({ length: viewers }, () => new TestPlayer(settings.hubUrl));
  try {
    for (const player of players) player.subscribe(STREAMER_ID);
    // A script, not a test: no vi.waitFor here, so a plain poll.
    const deadline = performance.now() + 30_000;
    while (!players.every((p) => p.rtpPackets > 0)) {
      if (performance.now() > deadline) throw new Error(`${viewers} viewers got no RTP within 30 s`);
      await sleep(25);
    }
    await sleep(settings.settleSeconds * 1000);
    const agentBefore = sampleTree(settings.agentPid);
    const hubBefore = sampleTree(settings.hubPid);
    const selfBefore = cpuSeconds();
    const packetsBefore = players.map((p) => p.rtpPackets);
    const startedAt = performance.now();
    await sleep(settings.seconds * 1000);
    const seconds = (performance.now() - startedAt) / 1000;
    const agent = cpuBetween(agentBefore, sampleTree(settings.agentPid), seconds);
    const hub = cpuBetween(hubBefore, sampleTree(settings.hubPid), seconds);
    const rates = players.map((p, i) => (p.rtpPackets - (packetsBefore[i] ?? 0)) / seconds);
    return {
      viewers,
      seconds: round(seconds),
      agentNode: round(agent.self),
      encoder: round(agent.children),
      agentTotal: round(agent.self + agent.children),
      hub: round(hub.self + hub.children),
      viewerProcess: round((100 * (cpuSeconds() - selfBefore)) / seconds),
      packetsPerSecond: { min: round(Math.min(...rates)), max: round(Math.max(...rates)) },
    };
  } finally {
    await Promise.all(players.map((p) => p.close()));
    // Let the hub and the agent tear the sessions down before the next window.
    await sleep(2000);
  }
}

export interface CpuSummary {
  /** Median over the rounds, per viewer count. */
  medians: { viewers: number; agentNode: number; encoder: number; agentTotal: number; hub: number }[];
  /** Median agent total (node + ffmpeg) at the most viewers / at the fewest. */
  agentRatio: number;
}

export function summarize(windows: CpuWindow[]): CpuSummary {
  const counts = [...new Set(windows.map((w) => w.viewers))].sort((a, b) => a - b);
  const median = (viewers: number, pick: (w: CpuWindow) => number) =>
    distribution(windows.filter((w) => w.viewers === viewers).map(pick)).p50;
  const medians = counts.map((viewers) => ({
    viewers,
    agentNode: median(viewers, (w) => w.agentNode),
    encoder: median(viewers, (w) => w.encoder),
    agentTotal: median(viewers, (w) => w.agentTotal),
    hub: median(viewers, (w) => w.hub),
  }));
  const fewest = medians[0];
  const most = medians[medians.length - 1];
  return { medians, agentRatio: fewest && most ? ratio(most.agentTotal, fewest.agentTotal) : Number.NaN };
}
