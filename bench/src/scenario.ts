/**
 * One measured run against one hub (or heartline as two nodes, see HubSet): start the hubs,
 * connect the sessions over a ramp, measure a steady window, then optionally search the knee
 * (faster pings on the same sessions) and make some sessions lapse on purpose. Bounded: every
 * phase has a fixed length or a timeout.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { HubSet, type HubMemory, type ScenarioHub } from "./HubSet.js";
import { LoadFleet } from "./LoadFleet.js";
import { protocolOf, type Protocol } from "./protocol.js";
import { distribution, round, type Distribution } from "./stats.js";

export type { ScenarioHub } from "./HubSet.js";

export interface ScenarioOptions {
  hub: ScenarioHub;
  sessions: number;
  intervalMs: number;
  seconds: number;
  rampSeconds: number;
  playersPerStreamer: number;
  /** Ping rates (relays per second over all sessions) to try after the steady window. */
  kneeRates?: number[];
  kneeStepSeconds?: number;
  /** Sessions to make lapse on purpose at the end (heartline only: the bare hub has no deadlines). */
  lapse?: number;
  /** The hub's `heartbeat.missedBeats` (heartline's default is 3). */
  missedBeats?: number;
  /**
   * Players send the ICE probe every interval (iceProbe.ts). Always on for the Pixel Streaming
   * hubs (their heartbeat is not relayed); native hubs only when asked.
   */
  iceProbe?: boolean;
  /** Which repeat of an interleaved series this is (0-based; reports pair hubs by it). */
  repeat?: number;
  /** Progress goes here (stderr by default). */
  log?: (line: string) => void;
}

export interface WindowResult {
  seconds: number;
  relaysPerSecond: number;
  rtt: Distribution;
  echo: Distribution;
  lost: number;
  /** All hub processes together (both nodes across nodes); 100 = one core. */
  hubCpuPercent: number;
  hubCpuMicrosPerRelay: number;
  /** All load workers together; 100 = one core. Near 100 per worker, the generator limits. */
  loadCpuPercent: number;
  /** Across nodes: each node's own share of hubCpuPercent, by node id. */
  nodeCpuPercent?: Record<string, number>;
  /** Across nodes: the redis-server (not in hubCpuPercent). */
  redisCpuPercent?: number;
  /** ICE probe round trips (empty without the probe). */
  iceRtt: Distribution;
  /** Messages the hub forwarded between the ends (WindowSamples.relayed), per second. */
  relayedPerSecond: number;
  /** Hub CPU / messages forwarded: natively pings, pongs and ICE; Pixel Streaming ICE only. */
  hubCpuMicrosPerRelayedMessage: number;
}

/** Across nodes: one node's memory (a holds the streamers, b the players). */
export interface NodeResult {
  nodeId: string;
  holds: "streamers" | "players";
  heapPerSessionBytes: number;
  rssPerSessionBytes: number;
  heapBytes: number;
  rssBytes: number;
}

export interface ScenarioResult {
  hub: ScenarioHub;
  protocol: Protocol;
  repeat: number;
  sessions: number;
  intervalMs: number;
  subscribed: number;
  failed: number;
  /** connect_error messages of the players that failed, counted. */
  connectFailures: Record<string, number>;
  connectAllMs: number;
  rampSeconds: number;
  subscribeToOffer: Distribution;
  /** Subscribes retried after streamer-not-found / cluster-unavailable (cross-node only). */
  subscribeRetries: number;
  /** `streamerList` messages the hub pushed to the players while they connected, all together. */
  streamerListsWhileConnecting: number;
  steady: WindowResult;
  falseTeardowns: Record<string, number>;
  disconnects: number;
  /** Summed over the hub processes (both nodes across nodes). */
  heapPerSessionBytes: number;
  rssPerSessionBytes: number;
  hubHeapBytes: number;
  hubRssBytes: number;
  /** Across nodes: each node, and how long until b listed a's streamers (ms; null: never). */
  cluster?: { nodes: NodeResult[]; listedAfterMs: number };
  knee?: (WindowResult & { offeredRate: number })[];
  lapse?: { sessions: number; lateness: Distribution; reasons: Record<string, number>; notClosed: number };
}

export async function runScenario(o: ScenarioOptions): Promise<ScenarioResult> {
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const protocol = protocolOf(o.hub);
  const tag = `[${o.hub} ${o.sessions} sessions @${o.intervalMs} ms${o.repeat === undefined ? "" : ` #${o.repeat + 1}`}]`;
  if (o.hub === "heartline-x2") log(`${tag} starting redis-server and hub nodes a (streamers), b (players)`);
  const hub = await HubSet.start(o.hub, o.intervalMs);
  if (hub.clustered) log(`${tag} nodes up: ${hub.describe()}`);
  const { fleet, plans } = LoadFleet.start({
    url: hub.streamerUrl,
    playerUrl: hub.playerUrl,
    sessions: o.sessions,
    playersPerStreamer: o.playersPerStreamer,
    intervalMs: o.intervalMs,
    rampMs: o.rampSeconds * 1000,
    connectTimeoutMs: 30_000,
    protocol,
    iceProbe: protocol === "pixelstreaming" || (o.iceProbe ?? false),
  });
  try {
    const before = sum(await hub.memory());
    const rampEnd = Date.now() + o.rampSeconds * 1000;
    const ticker = setInterval(() => {
      const p = fleet.progress();
      const left = Math.max(0, Math.round((rampEnd - Date.now()) / 1000));
      log(
        `${tag} connecting: ${p.connected} connected, ${p.subscribed}/${o.sessions} subscribed, ${p.failed} failed, ramp ${left} s left`,
      );
    }, 2000);
    const connected = await fleet.connect(plans).finally(() => {
      clearInterval(ticker);
    });
    if (connected.listedAfterMs !== undefined)
      log(`${tag} node b listed node a's streamers after ${round(connected.listedAfterMs)} ms`);
    log(
      `${tag} ${connected.subscribed} sessions live in ${round(connected.connectAllMs / 1000)} s; measuring ${o.seconds} s`,
    );
    // One interval to settle: every session has pinged at least once before the window.
    await sleep(Math.min(o.intervalMs, 5000));
    const afterByNode = await hub.memory();
    const after = sum(afterByNode);
    const steady = await measure(hub, fleet, o.seconds, (left) => {
      log(`${tag} measuring: ${left} s left`);
    });
    const result: ScenarioResult = {
      hub: o.hub,
      protocol,
      repeat: o.repeat ?? 0,
      sessions: o.sessions,
      intervalMs: o.intervalMs,
      subscribed: connected.subscribed,
      failed: connected.failed,
      connectFailures: connected.failures,
      connectAllMs: round(connected.connectAllMs),
      rampSeconds: o.rampSeconds,
      subscribeToOffer: distribution(connected.subscribeToOfferMs),
      subscribeRetries: connected.subscribeRetries,
      streamerListsWhileConnecting: connected.streamerLists,
      steady: steady.window,
      falseTeardowns: steady.samples.falseTeardowns,
      disconnects: steady.samples.disconnects,
      heapPerSessionBytes: Math.round((after.heapUsed - before.heapUsed) / Math.max(1, connected.subscribed)),
      rssPerSessionBytes: Math.round((after.rss - before.rss) / Math.max(1, connected.subscribed)),
      hubHeapBytes: after.heapUsed,
      hubRssBytes: after.rss,
    };
    if (hub.clustered) {
      result.cluster = {
        nodes: hub.names.map((nodeId, i) => {
          const a = afterByNode[i] ?? { heapUsed: 0, rss: 0 };
          const b = before.byNode[i] ?? { heapUsed: 0, rss: 0 };
          const per = Math.max(1, connected.subscribed);
          return {
            nodeId,
            holds: i === 0 ? "streamers" : "players",
            heapPerSessionBytes: Math.round((a.heapUsed - b.heapUsed) / per),
            rssPerSessionBytes: Math.round((a.rss - b.rss) / per),
            heapBytes: a.heapUsed,
            rssBytes: a.rss,
          };
        }),
        listedAfterMs: round(connected.listedAfterMs ?? Number.NaN),
      };
    }
    if (o.kneeRates && o.kneeRates.length > 0) {
      result.knee = [];
      for (const rate of o.kneeRates) {
        const ms = Math.max(10, Math.round((connected.subscribed / rate) * 1000));
        fleet.broadcast({ type: "interval", ms });
        await sleep(Math.min(ms, 2000));
        const step = await measure(hub, fleet, o.kneeStepSeconds ?? 10, (left) => {
          log(`${tag} knee ${rate} relays/s: ${left} s left`);
        });
        result.knee.push({ offeredRate: rate, ...step.window });
        log(
          `${tag} knee ${rate}/s offered: ${step.window.relaysPerSecond}/s relayed, p99 ${step.window.rtt.p99} ms`,
        );
        // Past the knee the queue only grows; further steps would say nothing new.
        if (step.window.rtt.p99 > 200) break;
      }
      fleet.broadcast({ type: "interval", ms: o.intervalMs });
    }
    if (o.lapse !== undefined && o.lapse > 0) {
      const timeoutMs = o.intervalMs * (o.missedBeats ?? 3);
      log(`${tag} making ${o.lapse} sessions lapse (timeout ${timeoutMs} ms)`);
      const lapsed = await fleet.lapse(o.lapse, timeoutMs);
      result.lapse = {
        sessions: lapsed.lateness.length + lapsed.notClosed,
        lateness: distribution(lapsed.lateness),
        reasons: lapsed.reasons,
        notClosed: lapsed.notClosed,
      };
    }
    return result;
  } finally {
    await fleet.stop();
    await hub.stop();
  }
}

function sum(memory: HubMemory[]): HubMemory & { byNode: HubMemory[] } {
  return {
    heapUsed: memory.reduce((n, m) => n + m.heapUsed, 0),
    rss: memory.reduce((n, m) => n + m.rss, 0),
    byNode: memory,
  };
}

async function measure(
  hub: HubSet,
  fleet: LoadFleet,
  seconds: number,
  progress: (left: number) => void,
): Promise<{ window: WindowResult; samples: Awaited<ReturnType<LoadFleet["collect"]>> }> {
  fleet.broadcast({ type: "window" });
  const cpuBefore = hub.cpuSeconds();
  const redisBefore = await hub.redisCpuSeconds();
  const loadBefore = fleet.cpuSeconds();
  const started = Date.now();
  for (let left = seconds; left > 0; left -= Math.min(left, 5)) {
    progress(left);
    await sleep(Math.min(left, 5) * 1000);
  }
  const samples = await fleet.collect();
  const elapsed = (Date.now() - started) / 1000;
  const cpuByNode = hub.cpuSeconds().map((c, i) => c - (cpuBefore[i] ?? 0));
  const cpu = cpuByNode.reduce((a, b) => a + b, 0);
  const redisAfter = await hub.redisCpuSeconds();
  const loadCpu = fleet.cpuSeconds() - loadBefore;
  const percent = (seconds: number) => round((seconds / elapsed) * 100);
  const relaysPerSecond = samples.pongsReceived / samples.seconds;
  return {
    samples,
    window: {
      seconds: round(samples.seconds),
      relaysPerSecond: round(relaysPerSecond),
      rtt: distribution(samples.rtt),
      echo: distribution(samples.echo),
      lost: Math.max(0, samples.pingsSent - samples.pongsReceived),
      hubCpuPercent: percent(cpu),
      hubCpuMicrosPerRelay: round((cpu / Math.max(1, samples.pongsReceived)) * 1e6),
      iceRtt: distribution(samples.iceRtt),
      relayedPerSecond: round(samples.relayed / samples.seconds),
      hubCpuMicrosPerRelayedMessage: round((cpu / Math.max(1, samples.relayed)) * 1e6),
      loadCpuPercent: percent(loadCpu),
      ...(hub.clustered && {
        nodeCpuPercent: Object.fromEntries(hub.names.map((name, i) => [name, percent(cpuByNode[i] ?? 0)])),
      }),
      ...(redisBefore !== undefined &&
        redisAfter !== undefined && { redisCpuPercent: percent(redisAfter - redisBefore) }),
    },
  };
}
