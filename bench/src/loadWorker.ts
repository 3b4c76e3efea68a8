/**
 * A load-generator process: simulated streamers and players (socket.io clients, no media)
 * that run the whole protocol: subscribe, offer/answer, ping/pong at the heartbeat interval.
 * The parent forks several (one process holds at most ~19,900 sockets) and merges samples.
 * Every loop here ends: pings stop on `stop`, and connecting gives up after connectTimeoutMs.
 */
import { performance } from "node:perf_hooks";
import { io, type Socket } from "socket.io-client";
import { ErrorCode } from "@heartline/shared";
import { connectCause } from "./connectCause.js";
import { IceProbe } from "./iceProbe.js";
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
  code?: string;
  streamers?: { streamerId: string }[];
  candidate?: unknown;
}

/**
 * Refusals of a subscribe that a cross-node player retries: its node has not heard of the
 * streamer's node yet, or lost it for a moment. A same-node subscribe never gets them.
 */
const RETRIED: ReadonlySet<string> = new Set([ErrorCode.StreamerNotFound, ErrorCode.ClusterUnavailable]);
const RETRY_AFTER_MS = 200;

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
/** The players' ICE probes (plan.iceProbe), stopped on `stop`. */
const probes: IceProbe[] = [];
let intervalMs = 1000;
let iceProbe = false;
let stopped = false;

let window: WindowSamples = emptyWindow();
/** `streamerList` messages pushed to this worker's players so far. */
let streamerLists = 0;
let windowStart = now();

const lapse = { lateness: [] as number[], reasons: {} as Record<string, number>, pending: 0 };

/** socket.io-client's connect timeout (its default, stated): a handshake slower than this fails. */
let handshakeTimeoutMs = 20_000;

function connect(url: string, auth: Record<string, unknown>): Socket {
  const socket = io(url, {
    transports: ["websocket"],
    auth,
    forceNew: true,
    reconnection: false,
    timeout: handshakeTimeoutMs,
  });
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
        window.relayed++;
        window.rtt.push(now() - (msg.time ?? 0));
        break;
      case "iceCandidate":
        // The ICE probe: straight back to the player.
        window.relayed++;
        streamer.emit("message", {
          type: "iceCandidate",
          sessionId: msg.sessionId,
          candidate: msg.candidate,
        });
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

interface PlayerHooks {
  onOffer: (ms: number) => void;
  onFail: (cause: string) => void;
  onRetry: () => void;
  onConnect: () => void;
  /** No retries after this (performance.now()). */
  retryUntil: number;
}

function startPlayer(url: string, streamerId: string, hooks: PlayerHooks): void {
  const player = connect(url, { role: "player" });
  let subscribedAt = 0;
  let offered = false;
  const probe = new IceProbe((ms) => window.iceRtt.push(ms));
  const subscribe = () => {
    if (stopped || !player.connected) return;
    player.emit("message", { type: "subscribe", streamerId });
  };
  player.once("connect", () => {
    hooks.onConnect();
    subscribedAt = now();
    subscribe();
  });
  player.once("connect_error", (error) => {
    hooks.onFail(connectCause(error));
  });
  player.on("message", (msg: Msg) => {
    switch (msg.type) {
      case "error":
        // Subscribe -> offer is timed from the first subscribe: retries count in it.
        if (!offered && RETRIED.has(msg.code ?? "") && now() < hooks.retryUntil) {
          hooks.onRetry();
          setTimeout(subscribe, RETRY_AFTER_MS);
        }
        break;
      case "streamerList":
        streamerLists++;
        break;
      case "ping":
        // Answered from the handler at once, as a browser player does.
        window.relayed++;
        player.emit("message", { type: "pong", sessionId: msg.sessionId, time: msg.time });
        break;
      case "offer":
        if (!offered) hooks.onOffer(now() - subscribedAt);
        player.emit("message", { type: "answer", sessionId: msg.sessionId, sdp: "v=0 bench answer" });
        if (iceProbe && !offered) {
          probes.push(probe);
          probe.start(intervalMs, (candidate) => {
            if (stopped || !player.connected) return;
            window.iceSent++;
            player.emit("message", { type: "iceCandidate", sessionId: msg.sessionId, candidate });
          });
        }
        offered = true;
        break;
      case "iceCandidate":
        window.relayed++;
        probe.answered(msg.candidate);
        break;
      case "sessionClosed": {
        probe.stop();
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

/**
 * Cross-node: asks the players' node for its streamer list every 100 ms until it names every
 * one of `ids` (it learns them from the streamers' node's beat). Resolves to the time that
 * took, or undefined after `timeoutMs` (the players then rely on their retries).
 */
function awaitListed(url: string, ids: string[], timeoutMs: number): Promise<number | undefined> {
  const began = now();
  const probe = io(url, {
    transports: ["websocket"],
    auth: { role: "player" },
    forceNew: true,
    reconnection: false,
  });
  return new Promise((resolve) => {
    const done = (ms: number | undefined) => {
      clearInterval(ask);
      clearTimeout(timer);
      probe.disconnect();
      resolve(ms);
    };
    const ask = setInterval(() => {
      if (probe.connected) probe.emit("message", { type: "listStreamers" });
    }, 100);
    const timer = setTimeout(() => {
      done(undefined);
    }, timeoutMs);
    probe.on("message", (msg: Msg) => {
      if (msg.type !== "streamerList") return;
      const listed = new Set((msg.streamers ?? []).map((s) => s.streamerId));
      if (ids.every((id) => listed.has(id))) done(now() - began);
    });
  });
}

async function run(plan: WorkerPlan): Promise<void> {
  intervalMs = plan.intervalMs;
  iceProbe = plan.iceProbe ?? false;
  handshakeTimeoutMs = plan.handshakeTimeoutMs ?? handshakeTimeoutMs;
  const failures: Record<string, number> = {};
  const count = (cause: string, n = 1) => {
    failures[cause] = (failures[cause] ?? 0) + n;
  };
  const requested = Array.from({ length: plan.streamers }, (_, i) => `${plan.idPrefix}-${i}`);
  // A streamer that cannot connect is recorded with its cause; its players are not started.
  const started = await Promise.all(
    requested.map((id) =>
      startStreamer(plan.url, id).then(
        () => id,
        (error: unknown) => {
          count(`streamer: ${connectCause(error)}`);
          return undefined;
        },
      ),
    ),
  );
  const ids = started.filter((id): id is string => id !== undefined);
  // One idle echo client per hub this worker talks to (two across nodes), pooled.
  for (const url of new Set([plan.url, plan.playerUrl])) startEcho(url);
  const crossNode = plan.playerUrl !== plan.url;
  const listedAfterMs = crossNode ? await awaitListed(plan.playerUrl, ids, plan.connectTimeoutMs) : undefined;
  const total = ids.length * plan.playersPerStreamer;
  const offers: number[] = [];
  const skipped = (requested.length - ids.length) * plan.playersPerStreamer;
  if (skipped > 0) count("player: its streamer did not connect", skipped);
  let failed = 0;
  let subscribeRetries = 0;
  let connectsIssued = 0;
  /** Players whose socket connected (the rest failed or never answered). */
  let playersConnected = 0;
  const began = now();
  const retryUntil = began + plan.rampMs + plan.connectTimeoutMs;
  let lastOfferAt = began;
  await new Promise<void>((resolve) => {
    const progress = setInterval(() => {
      send({ type: "progress", connected: connectsIssued, subscribed: offers.length, failed });
    }, 500);
    const giveUp = setTimeout(finish, plan.rampMs + plan.connectTimeoutMs);
    function finish() {
      // No player starts after the deadline: a late one would connect during the window.
      clearInterval(connecter);
      clearInterval(progress);
      clearTimeout(giveUp);
      resolve();
    }
    const check = () => {
      if (offers.length + failed >= total) finish();
    };
    // Evenly spread over the ramp by the clock, not by ticks: a busy event loop that runs its
    // 10 ms timer late starts the players it owes at once instead of falling behind the ramp.
    const connecter = setInterval(() => {
      const due = plan.rampMs > 0 ? Math.ceil((total * (now() - began)) / plan.rampMs) : total;
      while (connectsIssued < Math.min(total, due)) {
        const streamerId = ids[connectsIssued % ids.length] ?? "";
        connectsIssued++;
        startPlayer(plan.playerUrl, streamerId, {
          onOffer: (ms) => {
            offers.push(ms);
            lastOfferAt = now();
            check();
          },
          onFail: (cause) => {
            failed++;
            count(cause);
            check();
          },
          onConnect: () => {
            playersConnected++;
          },
          onRetry: () => {
            subscribeRetries++;
          },
          retryUntil,
        });
      }
      if (connectsIssued >= total) clearInterval(connecter);
    }, 10);
  });
  // Players that neither failed nor got an offer by the deadline are failures too, with why.
  const waited = `${Math.round((plan.rampMs + plan.connectTimeoutMs) / 1000)} s`;
  const connectedNoOffer = Math.max(0, playersConnected - offers.length);
  const notStarted = total - connectsIssued;
  const neverConnected = Math.max(0, connectsIssued - offers.length - failed - connectedNoOffer);
  if (connectedNoOffer > 0) count(`connected, no offer within ${waited}`, connectedNoOffer);
  if (neverConnected > 0) count(`neither connected nor connect_error within ${waited}`, neverConnected);
  if (notStarted > 0) count(`not started within ${waited}: the load generator fell behind`, notStarted);
  failed += skipped + connectedNoOffer + neverConnected + notStarted;
  send({
    type: "ready",
    subscribed: offers.length,
    failed,
    failures,
    connectAllMs: lastOfferAt - began,
    subscribeToOfferMs: offers,
    subscribeRetries,
    streamerLists,
    ...(listedAfterMs === undefined ? {} : { listedAfterMs }),
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
      for (const probe of probes) probe.stop();
      for (const socket of sockets) socket.disconnect();
      setTimeout(() => process.exit(0), 200);
      break;
  }
});
process.on("disconnect", () => process.exit(0));
