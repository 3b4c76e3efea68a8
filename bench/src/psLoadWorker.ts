/**
 * A load-generator process for Epic's Pixel Streaming signalling: simulated streamers and
 * players on plain WebSockets (`ws`, JSON text frames, no media), with the same commands and
 * reports as loadWorker.ts, so LoadFleet and the scenario drive both alike.
 *
 * A streamer connects to `/ps/streamer`, answers `identify` with `endpointId`, waits for
 * `endpointIdConfirm`, answers every `playerConnected` with an `offer` at once, and sends every
 * ICE candidate straight back to its player (the ICE probe, iceProbe.ts). A player connects to
 * `/` and does what Epic's frontend does: `listStreamers` as the socket opens, `subscribe` on
 * the `streamerList`, `answer` on the `offer`; it answers the hub's JSON `ping{time}` with
 * `pong{time}` from its message handler, and then sends its ICE probe every interval.
 *
 * Players come from many loopback addresses (127.77.x.y), a few per address: the hub limits
 * upgrades per address to a burst of 20 and 5/s, a constant with no config key, which one
 * address would hit at the 21st player. Every loop ends: probes stop on `stop`, and connecting
 * gives up after connectTimeoutMs.
 */
import { performance } from "node:perf_hooks";
import { io, type Socket } from "socket.io-client";
import { WebSocket, type RawData } from "ws";
import { connectCause } from "./connectCause.js";
import { IceProbe } from "./iceProbe.js";
import {
  emptyWindow,
  type WindowSamples,
  type WorkerCommand,
  type WorkerPlan,
  type WorkerReport,
} from "./protocol.js";

interface PsMsg {
  type: string;
  playerId?: string;
  committedId?: string;
  ids?: string[];
  time?: number;
  message?: string;
  candidate?: unknown;
}

/** Under the hub's upgrade burst per address (20). */
const PLAYERS_PER_ADDRESS = 10;
/** A short SDP: what the hub does with it does not depend on its length beyond parsing. */
const OFFER_SDP = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=bench\r\nt=0 0\r\n";
const ANSWER_SDP = "v=0\r\no=- 1 0 IN IP4 127.0.0.1\r\ns=bench answer\r\nt=0 0\r\n";

const send = (report: WorkerReport) => process.send?.(report);
const now = () => performance.now();
const sockets: WebSocket[] = [];
const echoes: Socket[] = [];
const probes: IceProbe[] = [];
let intervalMs = 1000;
let stopped = false;
let window: WindowSamples = emptyWindow();
let windowStart = now();
/** `streamerList` messages no `listStreamers` asked for (Pixel Streaming says: never). */
let unsolicitedLists = 0;

const write = (ws: WebSocket, message: Record<string, unknown>) => {
  if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
};

function parse(data: RawData): PsMsg | undefined {
  try {
    const bytes = Array.isArray(data)
      ? Buffer.concat(data)
      : data instanceof ArrayBuffer
        ? Buffer.from(data)
        : data;
    return JSON.parse(bytes.toString("utf8")) as PsMsg;
  } catch {
    return undefined;
  }
}

/** A loopback source address: block `block` of worker `worker`, within 127.0.0.0/8. */
function address(worker: number, block: number): string {
  return `127.${77 + worker}.${1 + Math.floor(block / 250)}.${1 + (block % 250)}`;
}

function open(url: string, localAddress: string, timeoutMs: number): WebSocket {
  const ws = new WebSocket(url, { localAddress, perMessageDeflate: false, handshakeTimeout: timeoutMs });
  sockets.push(ws);
  return ws;
}

function startStreamer(
  base: string,
  requestedId: string,
  localAddress: string,
  timeoutMs: number,
): Promise<string> {
  const ws = open(`${base}/ps/streamer`, localAddress, timeoutMs);
  ws.on("close", () => {
    if (!stopped) window.disconnects++;
  });
  ws.on("message", (data) => {
    const msg = parse(data);
    switch (msg?.type) {
      case "identify":
        write(ws, { type: "endpointId", id: requestedId, protocolVersion: "1.3.0" });
        break;
      case "playerConnected":
        write(ws, { type: "offer", sdp: OFFER_SDP, playerId: msg.playerId });
        break;
      case "answer":
        window.relayed++;
        break;
      case "iceCandidate":
        // The ICE probe: straight back to the player that sent it.
        window.relayed++;
        write(ws, { type: "iceCandidate", candidate: msg.candidate, playerId: msg.playerId });
        break;
    }
  });
  return new Promise((resolve, reject) => {
    const fail = (error: Error) => {
      clearTimeout(timer);
      reject(error);
    };
    const timer = setTimeout(() => {
      fail(new Error(`streamer ${requestedId}: no endpointIdConfirm within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.once("error", fail);
    ws.on("message", (data) => {
      const msg = parse(data);
      if (msg?.type !== "endpointIdConfirm") return;
      clearTimeout(timer);
      ws.off("error", fail);
      ws.on("error", () => undefined); // counted as a disconnect on close
      resolve(msg.committedId ?? requestedId);
    });
  });
}

interface PlayerHooks {
  onOffer: (ms: number) => void;
  onFail: (error: Error) => void;
}

function startPlayer(
  base: string,
  streamerId: string,
  localAddress: string,
  timeoutMs: number,
  hooks: PlayerHooks,
): void {
  const ws = open(`${base}/`, localAddress, timeoutMs);
  let subscribedAt = 0;
  let listAsked = false;
  let settled = false;
  const probe = new IceProbe((ms) => window.iceRtt.push(ms));
  const fail = (error: Error) => {
    if (settled) return;
    settled = true;
    hooks.onFail(error);
  };
  ws.on("error", fail);
  ws.on("open", () => {
    // As Epic's frontend: before `config` has even arrived.
    listAsked = true;
    write(ws, { type: "listStreamers" });
  });
  ws.on("close", (code, reason) => {
    probe.stop();
    if (stopped) return;
    if (!settled) fail(new Error(`closed ${code} before its offer`));
    window.disconnects++;
    const why = `close ${code} ${reason.toString()}`.trim();
    window.falseTeardowns[why] = (window.falseTeardowns[why] ?? 0) + 1;
  });
  ws.on("message", (data) => {
    const msg = parse(data);
    switch (msg?.type) {
      case "streamerList":
        if (!listAsked) {
          unsolicitedLists++;
          break;
        }
        listAsked = false;
        if (subscribedAt === 0) {
          subscribedAt = now();
          write(ws, { type: "subscribe", streamerId });
        }
        break;
      case "subscribeFailed":
        fail(new Error(`subscribeFailed: ${msg.message ?? ""}`));
        break;
      case "ping":
        // Answered from the handler at once, as Epic's frontend does; else the session lapses.
        write(ws, { type: "pong", time: msg.time ?? 0 });
        break;
      case "offer":
        if (settled) break;
        settled = true;
        hooks.onOffer(now() - subscribedAt);
        write(ws, { type: "answer", sdp: ANSWER_SDP, minBitrateBps: 0, maxBitrateBps: 0 });
        probes.push(probe);
        probe.start(intervalMs, (candidate) => {
          if (stopped) return;
          window.iceSent++;
          write(ws, { type: "iceCandidate", candidate });
        });
        break;
      case "iceCandidate":
        window.relayed++;
        probe.answered(msg.candidate);
        break;
    }
  });
}

/** The same idle socket.io echo as the native worker's: every hub child serves `/bench-echo`. */
function startEcho(url: string): void {
  const echo = io(`${url}/bench-echo`, { transports: ["websocket"], forceNew: true, reconnection: false });
  echoes.push(echo);
  const tick = setInterval(() => {
    if (stopped) {
      clearInterval(tick);
      return;
    }
    if (!echo.connected) return;
    echo.emit("echo", now(), (time: number) => window.echo.push(now() - time));
  }, 100);
}

async function run(plan: WorkerPlan): Promise<void> {
  intervalMs = plan.intervalMs;
  const worker = plan.worker ?? 0;
  const base = plan.url.replace(/^http/, "ws");
  const requested = Array.from({ length: plan.streamers }, (_, i) => `${plan.idPrefix}-${i}`);
  const ids = await Promise.all(
    requested.map((id) => startStreamer(base, id, address(worker, 0), plan.connectTimeoutMs)),
  );
  startEcho(plan.url);
  const total = plan.streamers * plan.playersPerStreamer;
  const offers: number[] = [];
  let failed = 0;
  const failures: Record<string, number> = {};
  let connectsIssued = 0;
  const began = now();
  let lastOfferAt = began;
  await new Promise<void>((resolve) => {
    const progress = setInterval(() => {
      send({ type: "progress", connected: connectsIssued, subscribed: offers.length, failed });
    }, 500);
    const giveUp = setTimeout(finish, plan.rampMs + plan.connectTimeoutMs);
    function finish() {
      clearInterval(progress);
      clearTimeout(giveUp);
      resolve();
    }
    const check = () => {
      if (offers.length + failed >= total) finish();
    };
    // Evenly spread over the ramp (all at once for a ramp of 0); a few per tick.
    const perTick = Math.max(1, Math.ceil(total / Math.max(1, plan.rampMs / 10)));
    const connecter = setInterval(() => {
      for (let k = 0; k < perTick && connectsIssued < total; k++) {
        const streamerId = ids[connectsIssued % ids.length] ?? "";
        const from = address(worker, 1 + Math.floor(connectsIssued / PLAYERS_PER_ADDRESS));
        connectsIssued++;
        startPlayer(base, streamerId, from, plan.connectTimeoutMs, {
          onOffer: (ms) => {
            offers.push(ms);
            lastOfferAt = now();
            check();
          },
          onFail: (error) => {
            failed++;
            const cause = connectCause(error);
            failures[cause] = (failures[cause] ?? 0) + 1;
            check();
          },
        });
      }
      if (connectsIssued >= total) clearInterval(connecter);
    }, 10);
  });
  send({
    type: "ready",
    subscribed: offers.length,
    failed,
    failures,
    connectAllMs: lastOfferAt - began,
    subscribeToOfferMs: offers,
    subscribeRetries: 0,
    streamerLists: unsolicitedLists,
  });
}

process.on("message", (command: WorkerCommand) => {
  switch (command.type) {
    case "start":
      run(command.plan).catch((error: unknown) => {
        process.stderr.write(`pixel streaming load worker: ${String(error)}\n`);
        process.exit(1);
      });
      break;
    case "window":
      window = emptyWindow();
      windowStart = now();
      break;
    case "collect":
      window.seconds = (now() - windowStart) / 1000;
      send({ type: "samples", ...window });
      break;
    case "interval":
      // Not used with Pixel Streaming (no knee search: the hub, not the load, sets its ping).
      break;
    case "lapse":
      // Pixel Streaming sessions are not made to lapse by this bench: say so at once.
      send({ type: "lapsed", lateness: [], reasons: {}, notClosed: command.count });
      break;
    case "stop":
      stopped = true;
      for (const probe of probes) probe.stop();
      for (const ws of sockets) ws.terminate();
      for (const echo of echoes) echo.disconnect();
      setTimeout(() => process.exit(0), 200);
      break;
  }
});
process.on("disconnect", () => process.exit(0));
