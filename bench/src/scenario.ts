/**
 * One measured run against one hub (or heartline as two nodes, see HubSet): start the hubs,
 * connect the sessions over a ramp, measure a steady window, then optionally search the knee
 * (faster pings on the same sessions) and make some sessions lapse on purpose. Bounded: every
 * phase has a fixed length or a timeout.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { HubSet, type HubMemory, type ScenarioHub } from "./HubSet.js";
import { LoadFleet } from "./LoadFleet.js";
import {
  boxLimits,
  processFds,
  runQueueWaitSeconds,
  socketStates,
  tcpCounters,
  tcpDelta,
  type BoxLimits,
  type ProcessFds,
  type SocketStates,
  type TcpCounters,
} from "./limits.js";
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
  /** socket.io-client's connect timeout for every simulated client (default 20 s, its own). */
  handshakeTimeoutMs?: number;
}

/** How long a player may take from the end of the ramp to its offer before it counts as failed. */
export const CONNECT_TIMEOUT_MS = 30_000;
export const HANDSHAKE_TIMEOUT_MS = 20_000;

/** A scenario that could not finish: which hub, at which step, and the hub's last words. */
export class ScenarioError extends Error {
  constructor(
    readonly hub: ScenarioHub,
    readonly repeat: number,
    readonly step: string,
    override readonly cause: unknown,
    readonly lastLog: string[],
  ) {
    super(
      `${hub} #${repeat + 1} failed at ${step}: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
    this.name = "ScenarioError";
  }
}

/** What limits the box while the sessions connect, measured (limits.ts). */
export interface BoxReport {
  limits: BoxLimits;
  handshakeTimeoutMs: number;
  connectTimeoutMs: number;
  /** Each hub process and load worker: its open-file limit and the most descriptors seen open. */
  fds: Record<string, ProcessFds & { peakOpen: number | null }>;
  /** System-wide TCP counters over the connect phase (deltas). */
  tcpWhileConnecting: TcpCounters | null;
  socketsBefore: SocketStates | null;
  socketsAfterConnect: SocketStates | null;
  /** CPU over the connect phase: the hubs together, and each load worker (100 = one core). */
  hubCpuPercentConnecting: number;
  loadCpuPercentConnectingByWorker: number[];
  /**
   * Each process's time waiting on a run queue over the connect phase, % of the phase: CPU it
   * wanted and did not get (the box's other work). High with low CPU: starved, not idle.
   */
  runQueueWaitPercentConnecting: Record<string, number | null>;
}

export interface WindowResult {
  seconds: number;
  /** Pings per second the sessions held should produce at this step's interval. */
  offeredPerSecond: number;
  /** Pings the load generator actually sent, per second. */
  sentPerSecond: number;
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
  /** The box's limits and counters while connecting. */
  box: BoxReport;
  /** The hubs' last lines of output when the scenario ended. */
  hubLog: string[];
  lapse?: { sessions: number; lateness: Distribution; reasons: Record<string, number>; notClosed: number };
}

export async function runScenario(o: ScenarioOptions): Promise<ScenarioResult> {
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const protocol = protocolOf(o.hub);
  const tag = `[${o.hub} ${o.sessions} sessions @${o.intervalMs} ms${o.repeat === undefined ? "" : ` #${o.repeat + 1}`}]`;
  if (o.hub === "heartline-x2") log(`${tag} starting redis-server and hub nodes a (streamers), b (players)`);
  const repeat = o.repeat ?? 0;
  let hub: HubSet;
  try {
    hub = await HubSet.start(o.hub, o.intervalMs);
  } catch (error) {
    throw new ScenarioError(o.hub, repeat, "starting the hub", error, []);
  }
  if (hub.clustered) log(`${tag} nodes up: ${hub.describe()}`);
  const handshakeTimeoutMs = o.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS;
  const { fleet, plans } = LoadFleet.start({
    url: hub.streamerUrl,
    playerUrl: hub.playerUrl,
    sessions: o.sessions,
    playersPerStreamer: o.playersPerStreamer,
    intervalMs: o.intervalMs,
    rampMs: o.rampSeconds * 1000,
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
    handshakeTimeoutMs,
    protocol,
    iceProbe: protocol === "pixelstreaming" || (o.iceProbe ?? false),
  });
  let step = "measuring the hub's memory before connecting";
  try {
    const before = sum(await hub.memory());
    step = "connecting the sessions";
    const rampEnd = Date.now() + o.rampSeconds * 1000;
    const processes = (): [string, number | undefined][] => [
      ...Object.entries(hub.pids()).map(([name, pid]): [string, number | undefined] => [`hub ${name}`, pid]),
      ...fleet.pids().map((pid, i): [string, number | undefined] => [`load worker ${i}`, pid]),
    ];
    const peakFds = new Map<string, number>();
    const sampleFds = () => {
      for (const [name, pid] of processes()) {
        const open = processFds(pid).open;
        if (open !== null) peakFds.set(name, Math.max(open, peakFds.get(name) ?? 0));
      }
    };
    const socketsBefore = socketStates();
    const tcpBefore = tcpCounters();
    const waitBefore = new Map(processes().map(([name, pid]) => [name, runQueueWaitSeconds(pid)]));
    const hubCpuBefore = hub.cpuSeconds();
    const loadCpuBefore = fleet.cpuSecondsByWorker();
    const connectStarted = Date.now();
    const ticker = setInterval(() => {
      sampleFds();
      const p = fleet.progress();
      const left = Math.max(0, Math.round((rampEnd - Date.now()) / 1000));
      log(
        `${tag} connecting: ${p.connected} connected, ${p.subscribed}/${o.sessions} subscribed, ${p.failed} failed, ramp ${left} s left`,
      );
    }, 2000);
    const connected = await fleet.connect(plans).finally(() => {
      clearInterval(ticker);
    });
    sampleFds();
    const connectSeconds = Math.max(0.001, (Date.now() - connectStarted) / 1000);
    const box: BoxReport = {
      limits: boxLimits(),
      handshakeTimeoutMs,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      fds: Object.fromEntries(
        processes().map(([name, pid]) => [name, { ...processFds(pid), peakOpen: peakFds.get(name) ?? null }]),
      ),
      tcpWhileConnecting: tcpDelta(tcpCounters(), tcpBefore),
      socketsBefore,
      socketsAfterConnect: socketStates(),
      hubCpuPercentConnecting: round(
        ((hub.cpuSeconds().reduce((a, b) => a + b, 0) - hubCpuBefore.reduce((a, b) => a + b, 0)) /
          connectSeconds) *
          100,
      ),
      runQueueWaitPercentConnecting: Object.fromEntries(
        processes().map(([name, pid]) => {
          const after = runQueueWaitSeconds(pid);
          const before = waitBefore.get(name);
          return [
            name,
            after === null || before === null || before === undefined
              ? null
              : round(((after - before) / connectSeconds) * 100),
          ];
        }),
      ),
      loadCpuPercentConnectingByWorker: fleet
        .cpuSecondsByWorker()
        .map((c, i) => round(((c - (loadCpuBefore[i] ?? 0)) / connectSeconds) * 100)),
    };
    if (connected.failed > 0)
      log(`${tag} ${connected.failed} connects failed: ${JSON.stringify(connected.failures)}`);
    if (connected.listedAfterMs !== undefined)
      log(`${tag} node b listed node a's streamers after ${round(connected.listedAfterMs)} ms`);
    log(
      `${tag} ${connected.subscribed} sessions live in ${round(connected.connectAllMs / 1000)} s; measuring ${o.seconds} s`,
    );
    // One interval to settle: every session has pinged at least once before the window.
    step = "settling";
    await sleep(Math.min(o.intervalMs, 5000));
    step = "measuring the hub's memory after connecting";
    const afterByNode = await hub.memory();
    const after = sum(afterByNode);
    step = "the measurement window";
    const offered = (ms: number) => round((connected.subscribed * 1000) / ms);
    const steady = await measure(hub, fleet, o.seconds, offered(o.intervalMs), (left) => {
      log(`${tag} measuring: ${left} s left`);
    });
    const result: ScenarioResult = {
      hub: o.hub,
      protocol,
      repeat,
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
      box,
      hubLog: [],
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
        step = `knee step ${rate} relays/s`;
        const ms = Math.max(10, Math.round((connected.subscribed / rate) * 1000));
        fleet.broadcast({ type: "interval", ms });
        await sleep(Math.min(ms, 2000));
        const knee = await measure(hub, fleet, o.kneeStepSeconds ?? 10, offered(ms), (left) => {
          log(`${tag} knee ${rate} relays/s: ${left} s left`);
        });
        result.knee.push({ offeredRate: rate, ...knee.window });
        log(
          `${tag} knee ${rate}/s offered: ${knee.window.relaysPerSecond}/s relayed, p99 ${knee.window.rtt.p99} ms`,
        );
        // Past the knee the queue only grows; further steps would say nothing new.
        if (!(knee.window.rtt.p99 <= 200)) break;
      }
      fleet.broadcast({ type: "interval", ms: o.intervalMs });
    }
    if (o.lapse !== undefined && o.lapse > 0) {
      step = `making ${o.lapse} sessions lapse`;
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
    // Still alive at the end? (a hub that died after its last figure fails the scenario too)
    step = "the end of the scenario";
    hub.cpuSeconds();
    result.hubLog = hub.lastLog();
    return result;
  } catch (error) {
    throw new ScenarioError(o.hub, repeat, step, error, hub.lastLog());
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
  offeredPerSecond: number,
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
      offeredPerSecond,
      sentPerSecond: round(samples.pingsSent / samples.seconds),
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
