/**
 * One peer group: a child process holding a few protocol-level streamers and players
 * (socket.io clients, dummy SDP, no media). The runner signals the whole process, so SIGSTOP
 * hangs every peer of the group and SIGKILL kills them all. Every peer writes what it saw to the
 * group's history file, synchronously, so a SIGKILL loses nothing written before it.
 *
 * argv[2]: a JSON GroupPlan. IPC in: quiesce (no more unsubscribes), final (write and send each
 * peer's open sessions), stop. Every loop is bounded: retries stop with the process, and the
 * process exits when its IPC channel to the runner closes.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { io, type Socket } from "socket.io-client";
import type { NodeName, PeerEvent, Role } from "./history.js";
import { Random } from "./random.js";
import { playerPlan, streamerIdOf, streamerNode, type Topology } from "./topology.js";

export interface GroupPlan extends Topology {
  group: number;
  /** Hub URL per node. */
  hubs: Record<NodeName, string>;
  historyFile: string;
  /** Declare the `probe` feature (and answer probes). */
  probe: boolean;
  /** A player ends its session by itself (`unsubscribe`) after this long, at random; 0: never. */
  lifetimeMs: [number, number];
  seed: number;
}

export type GroupCommand = { type: "quiesce" } | { type: "final" } | { type: "stop" };
export type GroupReport =
  | { type: "ready" }
  | { type: "final"; peers: { peer: string; node: NodeName; open: string[]; connected: boolean }[] };

interface Msg {
  type: string;
  sessionId?: string;
  sessionIds?: string[];
  reason?: string;
  code?: string;
  time?: number;
  probeId?: string;
  peerId?: string;
  streamerId?: string;
  resumeToken?: string;
  heartbeat?: { intervalMs: number };
}

const DUMMY_SDP = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=chaos\r\nt=0 0\r\n";
/** Refusals after which a player tries its subscribe again (the streamer may come back). */
const RETRY_MS: [number, number] = [300, 1200];

const plan = JSON.parse(process.argv[2] ?? "{}") as GroupPlan;
const random = new Random(plan.seed);
const fd = openSync(plan.historyFile, "a");
let quiesced = false;
let stopping = false;

abstract class ChaosPeer {
  readonly socket: Socket;
  /** Sessions this peer holds open. */
  readonly sessions = new Set<string>();
  resumeToken: string | undefined;
  #resuming = false;
  intervalMs = 1000;

  constructor(
    readonly name: string,
    readonly role: Role,
    readonly node: NodeName,
    auth: Record<string, unknown>,
  ) {
    const features = plan.probe ? ["probe"] : [];
    this.socket = io(plan.hubs[node], {
      transports: ["websocket"],
      forceNew: true,
      reconnectionDelay: 200,
      reconnectionDelayMax: 1000,
      randomizationFactor: 0.3,
      timeout: 5000,
      auth: (cb) => {
        this.#resuming = this.resumeToken !== undefined;
        cb({
          ...auth,
          features,
          ...(this.resumeToken === undefined ? {} : { resumeToken: this.resumeToken }),
        });
      },
    });
    this.socket.on("message", (message: Msg) => {
      this.#onMessage(message);
    });
    this.socket.on("disconnect", (why) => {
      this.record({ ev: "disconnected", why });
      // socket.io-client reconnects by itself except after the server's own disconnect.
      if (why === "io server disconnect") this.#retryConnect();
    });
    this.socket.on("connect_error", (error: Error) => {
      // A refused handshake (streamer-id-taken while an old self may still resume, an unknown
      // resume token) is not retried by socket.io; a transport error is.
      if (!this.socket.active) {
        this.resumeToken = undefined;
        this.record({ ev: "error", code: `connect:${error.message}` });
        this.#retryConnect();
      }
    });
  }

  #retryConnect(): void {
    setTimeout(
      () => {
        if (!stopping && !this.socket.connected) this.socket.connect();
      },
      random.int(...RETRY_MS),
    );
  }

  record(event: DistributiveOmit<PeerEvent, "t" | "peer" | "group" | "role" | "node">): void {
    const line = {
      t: Date.now(),
      peer: this.name,
      group: plan.group,
      role: this.role,
      node: this.node,
      ...event,
    };
    writeSync(fd, `${JSON.stringify(line)}\n`);
  }

  send(message: Record<string, unknown>): void {
    if (this.socket.connected) this.socket.emit("message", message);
  }

  /** Sessions held but no longer known to the hub: recorded as lost. */
  #lose(keep: ReadonlySet<string>): void {
    for (const sessionId of [...this.sessions]) {
      if (keep.has(sessionId)) continue;
      this.record({ ev: "lost", sessionId });
      this.forget(sessionId);
    }
  }

  #onMessage(message: Msg): void {
    switch (message.type) {
      case "config":
        if (message.heartbeat) this.intervalMs = message.heartbeat.intervalMs;
        this.resumeToken = message.resumeToken;
        if (message.peerId !== undefined) this.record({ ev: "connected", peerId: message.peerId });
        // A fresh admission: nothing this peer held survives. A resume is settled by `resumed`.
        if (!this.#resuming) {
          this.#lose(new Set());
          this.onFresh();
        }
        this.#resuming = false;
        return;
      case "resumed":
        this.record({ ev: "resumed", sessionIds: message.sessionIds ?? [] });
        this.#lose(new Set(message.sessionIds));
        this.onFresh();
        return;
      case "sessionClosed":
        if (message.sessionId === undefined) return;
        this.record({ ev: "closed", sessionId: message.sessionId, reason: message.reason ?? "?" });
        this.forget(message.sessionId);
        this.onClosed();
        return;
      case "probe":
        if (plan.probe) this.send({ type: "probeAck", probeId: message.probeId });
        return;
      case "error":
        this.record({
          ev: "error",
          code: message.code ?? "?",
          ...(message.sessionId === undefined ? {} : { sessionId: message.sessionId }),
        });
        this.onError(message);
        return;
      default:
        this.onMessage(message);
    }
  }

  forget(sessionId: string): void {
    this.sessions.delete(sessionId);
  }

  abstract onFresh(): void;
  abstract onClosed(): void;
  abstract onError(message: Msg): void;
  abstract onMessage(message: Msg): void;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

class Streamer extends ChaosPeer {
  readonly #pingers = new Map<string, NodeJS.Timeout>();

  constructor(
    name: string,
    node: NodeName,
    readonly streamerId: string,
  ) {
    super(name, "streamer", node, { role: "streamer", streamerId });
  }

  onFresh(): void {
    // Nothing to do: players find the streamer by its id.
  }

  onClosed(): void {
    // Players come back by themselves.
  }

  onError(): void {
    // Relay refusals (cluster-unavailable during an outage) are recorded; pings carry on.
  }

  onMessage(message: Msg): void {
    const sessionId = message.sessionId;
    if (message.type !== "playerJoined" || sessionId === undefined) return;
    // A resumed streamer gets playerJoined again for sessions it has not offered in yet.
    if (this.sessions.has(sessionId)) return;
    this.sessions.add(sessionId);
    this.record({ ev: "started", sessionId, streamerId: this.streamerId });
    this.send({ type: "offer", sessionId, sdp: DUMMY_SDP });
    const ping = () => {
      this.send({ type: "ping", sessionId, time: Math.round(performance.now()) });
    };
    ping();
    this.#pingers.set(sessionId, setInterval(ping, this.intervalMs));
  }

  override forget(sessionId: string): void {
    super.forget(sessionId);
    clearInterval(this.#pingers.get(sessionId));
    this.#pingers.delete(sessionId);
  }
}

class Player extends ChaosPeer {
  #subscribing = false;
  #retry: NodeJS.Timeout | undefined;
  #lifetime: NodeJS.Timeout | undefined;

  constructor(
    name: string,
    node: NodeName,
    readonly streamerId: string,
  ) {
    super(name, "player", node, { role: "player" });
  }

  #subscribeSoon(): void {
    clearTimeout(this.#retry);
    this.#retry = setTimeout(
      () => {
        this.#subscribe();
      },
      random.int(...RETRY_MS),
    );
  }

  #subscribe(): void {
    if (stopping || this.sessions.size > 0 || !this.socket.connected) return;
    this.#subscribing = true;
    this.send({ type: "subscribe", streamerId: this.streamerId });
  }

  onFresh(): void {
    if (this.sessions.size === 0) this.#subscribeSoon();
  }

  onClosed(): void {
    this.#subscribeSoon();
  }

  onError(message: Msg): void {
    // A refused subscribe names no session: try again a little later.
    if (this.#subscribing && message.sessionId === undefined) {
      this.#subscribing = false;
      this.#subscribeSoon();
    }
  }

  onMessage(message: Msg): void {
    const sessionId = message.sessionId;
    if (sessionId === undefined) return;
    switch (message.type) {
      case "sessionStarted":
        this.#subscribing = false;
        this.sessions.add(sessionId);
        this.record({ ev: "started", sessionId, streamerId: this.streamerId });
        this.#planUnsubscribe(sessionId);
        return;
      case "offer":
        this.send({ type: "answer", sessionId, sdp: DUMMY_SDP });
        return;
      case "ping":
        this.send({ type: "pong", sessionId, time: message.time });
        return;
    }
  }

  #planUnsubscribe(sessionId: string): void {
    const [min, max] = plan.lifetimeMs;
    if (max <= 0) return;
    clearTimeout(this.#lifetime);
    this.#lifetime = setTimeout(
      () => {
        if (quiesced || stopping || !this.sessions.has(sessionId) || !this.socket.connected) return;
        this.record({ ev: "unsubscribe", sessionId });
        this.send({ type: "unsubscribe", sessionId });
      },
      random.int(min, max),
    );
  }

  override forget(sessionId: string): void {
    super.forget(sessionId);
    if (this.sessions.size === 0) this.#subscribing = false;
  }
}

const peers: ChaosPeer[] = [];
for (let i = 0; i < plan.streamersPerGroup; i++)
  peers.push(new Streamer(`g${plan.group}.s${i}`, streamerNode(i), streamerIdOf(plan.group, i)));
for (let j = 0; j < plan.playersPerGroup; j++) {
  const target = playerPlan(plan, plan.group, j);
  peers.push(new Player(`g${plan.group}.p${j}`, target.node, target.streamerId));
}

const report = (message: GroupReport) => process.send?.(message);

function stop(): void {
  if (stopping) return;
  stopping = true;
  for (const peer of peers) peer.socket.disconnect();
  closeSync(fd);
  setTimeout(() => process.exit(0), 200).unref();
}

process.on("message", (command: GroupCommand) => {
  switch (command.type) {
    case "quiesce":
      quiesced = true;
      return;
    case "final":
      report({
        type: "final",
        peers: peers.map((peer) => {
          const open = [...peer.sessions];
          const connected = peer.socket.connected;
          peer.record({ ev: "final", open, connected });
          return { peer: peer.name, node: peer.node, open, connected };
        }),
      });
      return;
    case "stop":
      stop();
      return;
  }
});
// The runner is gone (crashed or killed): leave nothing behind.
process.on("disconnect", stop);
process.on("SIGTERM", stop);
report({ type: "ready" });
