/**
 * A load-generator process: simulated streamers and players (socket.io clients, no media)
 * that run the whole protocol: subscribe, offer/answer, ping/pong at the heartbeat interval.
 * The parent forks several (one process holds at most ~19,900 sockets) and merges samples.
 * Every loop here ends: pings stop on `stop`, and connecting gives up after connectTimeoutMs.
 */
import { performance } from "node:perf_hooks";
import { io, type Socket } from "socket.io-client";
import {
  emptyWindow,
  type WindowSamples,
  type WorkerCommand,
  type WorkerPlan,
  type WorkerReport,
} from "./protocol.js";

interface Msg {
  type: string;
  sessionId: string;
  time?: number;
  reason?: string;
}

interface Session {
  streamer: Socket;
  timer: NodeJS.Timeout | undefined;
  lastPingAt: number;
  /** Set when the bench made this session lapse on purpose. */
  deadline?: number;
}

const send = (report: WorkerReport) => process.send?.(report);
const now = () => performance.now();
const sockets: Socket[] = [];
const sessions = new Map<string, Session>();
let intervalMs = 1000;
let stopped = false;

let window: WindowSamples = emptyWindow();
let windowStart = now();

const lapse = { lateness: [] as number[], reasons: {} as Record<string, number>, pending: 0 };

function connect(url: string, auth: Record<string, unknown>): Socket {
  const socket = io(url, { transports: ["websocket"], auth, forceNew: true, reconnection: false });
  socket.on("disconnect", () => {
    if (!stopped) window.disconnects++;
  });
  sockets.push(socket);
  return socket;
}

function ping(sessionId: string, session: Session): void {
  session.lastPingAt = now();
  window.pingsSent++;
  session.streamer.emit("message", { type: "ping", sessionId, time: session.lastPingAt });
}

/** Pings at once, then every interval, from a random phase so pings do not come in waves. */
function schedule(sessionId: string, session: Session, first: number): void {
  clearInterval(session.timer);
  session.timer = setTimeout(() => {
    if (stopped || session.deadline !== undefined) return;
    ping(sessionId, session);
    session.timer = setInterval(() => {
      ping(sessionId, session);
    }, intervalMs);
  }, first);
}

function startStreamer(url: string, streamerId: string): Promise<Socket> {
  const streamer = connect(url, { role: "streamer", streamerId });
  streamer.on("message", (msg: Msg) => {
    switch (msg.type) {
      case "playerJoined": {
        streamer.emit("message", { type: "offer", sessionId: msg.sessionId, sdp: "v=0 bench" });
        const session: Session = { streamer, timer: undefined, lastPingAt: now() };
        sessions.set(msg.sessionId, session);
        schedule(msg.sessionId, session, 0);
        break;
      }
      case "pong":
        window.pongsReceived++;
        window.rtt.push(now() - (msg.time ?? 0));
        break;
      case "sessionClosed": {
        const session = sessions.get(msg.sessionId);
        if (session) clearInterval(session.timer);
        break;
      }
    }
  });
  return new Promise((resolve, reject) => {
    streamer.once("connect", () => {
      resolve(streamer);
    });
    streamer.once("connect_error", reject);
  });
}

function startPlayer(
  url: string,
  streamerId: string,
  onOffer: (ms: number) => void,
  onFail: (error: Error) => void,
): void {
  const player = connect(url, { role: "player" });
  let subscribedAt = 0;
  player.once("connect", () => {
    subscribedAt = now();
    player.emit("message", { type: "subscribe", streamerId });
  });
  player.once("connect_error", onFail);
  player.on("message", (msg: Msg) => {
    switch (msg.type) {
      case "ping":
        // Answered from the handler at once, as a browser player does.
        player.emit("message", { type: "pong", sessionId: msg.sessionId, time: msg.time });
        break;
      case "offer":
        onOffer(now() - subscribedAt);
        player.emit("message", { type: "answer", sessionId: msg.sessionId, sdp: "v=0 bench answer" });
        break;
      case "sessionClosed": {
        const session = sessions.get(msg.sessionId);
        const reason = msg.reason ?? "unknown";
        if (session?.deadline !== undefined) {
          lapse.lateness.push(now() - session.deadline);
          lapse.reasons[reason] = (lapse.reasons[reason] ?? 0) + 1;
          lapse.pending--;
          session.deadline = Number.NaN; // counted once
        } else if (!stopped) {
          window.falseTeardowns[reason] = (window.falseTeardowns[reason] ?? 0) + 1;
        }
        break;
      }
    }
  });
}

function startEcho(url: string): void {
  const echo = io(`${url}/bench-echo`, { transports: ["websocket"], forceNew: true, reconnection: false });
  sockets.push(echo);
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
  const ids = Array.from({ length: plan.streamers }, (_, i) => `${plan.idPrefix}-${i}`);
  await Promise.all(ids.map((id) => startStreamer(plan.url, id)));
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
    // Evenly spread over the ramp; a few per tick so timers stay cheap.
    const perTick = Math.max(1, Math.ceil(total / Math.max(1, plan.rampMs / 10)));
    const connecter = setInterval(() => {
      for (let k = 0; k < perTick && connectsIssued < total; k++) {
        const streamerId = ids[connectsIssued % ids.length] ?? "";
        connectsIssued++;
        startPlayer(
          plan.url,
          streamerId,
          (ms) => {
            offers.push(ms);
            lastOfferAt = now();
            check();
          },
          (error) => {
            failed++;
            failures[error.message] = (failures[error.message] ?? 0) + 1;
            check();
          },
        );
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
  });
}

function startLapse(count: number, timeoutMs: number): void {
  // Every k-th session, so the lapsed ones are spread over streamers.
  const all = [...sessions.entries()];
  const step = Math.max(1, Math.floor(all.length / Math.max(1, count)));
  const chosen = all.filter((_, i) => i % step === 0).slice(0, count);
  lapse.pending = chosen.length;
  // Each session stops at its own random moment within one interval.
  for (const [, session] of chosen) {
    setTimeout(() => {
      clearInterval(session.timer);
      session.deadline = session.lastPingAt + timeoutMs;
    }, Math.random() * intervalMs);
  }
  const waitMs = intervalMs + timeoutMs + 5000;
  const started = now();
  const poll = setInterval(() => {
    if (lapse.pending > 0 && now() - started < waitMs) return;
    clearInterval(poll);
    send({ type: "lapsed", lateness: lapse.lateness, reasons: lapse.reasons, notClosed: lapse.pending });
  }, 100);
}

process.on("message", (command: WorkerCommand) => {
  switch (command.type) {
    case "start":
      void run(command.plan);
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
      intervalMs = command.ms;
      for (const [id, session] of sessions) {
        if (session.deadline === undefined) schedule(id, session, Math.random() * intervalMs);
      }
      break;
    case "lapse":
      startLapse(command.count, command.timeoutMs);
      break;
    case "stop":
      stopped = true;
      for (const session of sessions.values()) clearInterval(session.timer);
      for (const socket of sockets) socket.disconnect();
      setTimeout(() => process.exit(0), 200);
      break;
  }
});
process.on("disconnect", () => process.exit(0));
