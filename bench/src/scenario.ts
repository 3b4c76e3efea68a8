/**
 * One measured run against one hub: start the hub, connect the sessions over a ramp, measure
 * a steady window, then optionally search the knee (faster pings on the same sessions) and
 * make some sessions lapse on purpose. Bounded: every phase has a fixed length or a timeout.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { HubProcess } from "./HubProcess.js";
import { LoadFleet } from "./LoadFleet.js";
import type { HubKind } from "./protocol.js";
import { distribution, round, type Distribution } from "./stats.js";

export interface ScenarioOptions {
  hub: HubKind;
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
  /** Progress goes here (stderr by default). */
  log?: (line: string) => void;
}

export interface WindowResult {
  seconds: number;
  relaysPerSecond: number;
  rtt: Distribution;
  echo: Distribution;
  lost: number;
  hubCpuPercent: number;
  hubCpuMicrosPerRelay: number;
  /** All load workers together; 100 = one core. Near 100 per worker, the generator limits. */
  loadCpuPercent: number;
}

export interface ScenarioResult {
  hub: HubKind;
  sessions: number;
  intervalMs: number;
  subscribed: number;
  failed: number;
  /** connect_error messages of the players that failed, counted. */
  connectFailures: Record<string, number>;
  connectAllMs: number;
  rampSeconds: number;
  subscribeToOffer: Distribution;
  steady: WindowResult;
  falseTeardowns: Record<string, number>;
  disconnects: number;
  heapPerSessionBytes: number;
  rssPerSessionBytes: number;
  hubHeapBytes: number;
  hubRssBytes: number;
  knee?: (WindowResult & { offeredRate: number })[];
  lapse?: { sessions: number; lateness: Distribution; reasons: Record<string, number>; notClosed: number };
}

export async function runScenario(o: ScenarioOptions): Promise<ScenarioResult> {
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const tag = `[${o.hub} ${o.sessions} sessions @${o.intervalMs} ms]`;
  const hub = await HubProcess.start(o.hub, o.intervalMs);
  const { fleet, plans } = LoadFleet.start({
    url: hub.url,
    sessions: o.sessions,
    playersPerStreamer: o.playersPerStreamer,
    intervalMs: o.intervalMs,
    rampMs: o.rampSeconds * 1000,
    connectTimeoutMs: 30_000,
  });
  try {
    const before = await hub.memory();
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
    log(
      `${tag} ${connected.subscribed} sessions live in ${round(connected.connectAllMs / 1000)} s; measuring ${o.seconds} s`,
    );
    // One interval to settle: every session has pinged at least once before the window.
    await sleep(Math.min(o.intervalMs, 5000));
    const after = await hub.memory();
    const steady = await measure(hub, fleet, o.seconds, (left) => {
      log(`${tag} measuring: ${left} s left`);
    });
    const result: ScenarioResult = {
      hub: o.hub,
      sessions: o.sessions,
      intervalMs: o.intervalMs,
      subscribed: connected.subscribed,
      failed: connected.failed,
      connectFailures: connected.failures,
      connectAllMs: round(connected.connectAllMs),
      rampSeconds: o.rampSeconds,
      subscribeToOffer: distribution(connected.subscribeToOfferMs),
      steady: steady.window,
      falseTeardowns: steady.samples.falseTeardowns,
      disconnects: steady.samples.disconnects,
      heapPerSessionBytes: Math.round((after.heapUsed - before.heapUsed) / Math.max(1, connected.subscribed)),
      rssPerSessionBytes: Math.round((after.rss - before.rss) / Math.max(1, connected.subscribed)),
      hubHeapBytes: after.heapUsed,
      hubRssBytes: after.rss,
    };
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

async function measure(
  hub: HubProcess,
  fleet: LoadFleet,
  seconds: number,
  progress: (left: number) => void,
): Promise<{ window: WindowResult; samples: Awaited<ReturnType<LoadFleet["collect"]>> }> {
  fleet.broadcast({ type: "window" });
  const cpuBefore = hub.cpuSeconds();
  const loadBefore = fleet.cpuSeconds();
  const started = Date.now();
  for (let left = seconds; left > 0; left -= Math.min(left, 5)) {
    progress(left);
    await sleep(Math.min(left, 5) * 1000);
  }
  const samples = await fleet.collect();
  const elapsed = (Date.now() - started) / 1000;
  const cpu = hub.cpuSeconds() - cpuBefore;
  const loadCpu = fleet.cpuSeconds() - loadBefore;
  const relaysPerSecond = samples.pongsReceived / samples.seconds;
  return {
    samples,
    window: {
      seconds: round(samples.seconds),
      relaysPerSecond: round(relaysPerSecond),
      rtt: distribution(samples.rtt),
      echo: distribution(samples.echo),
      lost: Math.max(0, samples.pingsSent - samples.pongsReceived),
      hubCpuPercent: round((cpu / elapsed) * 100),
      hubCpuMicrosPerRelay: round((cpu / Math.max(1, samples.pongsReceived)) * 1e6),
      loadCpuPercent: round((loadCpu / elapsed) * 100),
    },
  };
}
