/**
 * This hub as one node of a cluster that shares a Redis. It does three things:
 *
 * 1. Relaying between nodes: envelopes (envelopes.ts) in signed frames on the cluster's own
 *    pub/sub channels (ClusterBus.ts). socket.io itself is not connected to Redis (no adapter):
 *    no socket.io broadcast, request or server-side emit crosses nodes, so nothing published
 *    to Redis reaches a socket or a handler without passing the bus's checks.
 * 2. A registry in Redis of who is where (keys below): the nodes alive, each node's streamers
 *    and sessions, and a cluster-wide claim on every streamer id so two nodes never admit the
 *    same id. Every key of a node expires unless that node keeps refreshing it, so a node that
 *    dies leaves nothing behind for longer than the heartbeat timeout.
 * 3. Node liveness: every node beats (an envelope) twice per heartbeat interval. A node silent
 *    for longer than the heartbeat timeout is lost: its sessions with this node end with
 *    `hub-link-lost` and its streamers leave the list. During a Redis outage every other node
 *    goes silent the same way, so cross-node sessions end while same-node sessions go on.
 *
 * Keys (prefix `cluster.keyPrefix`, default `heartline`):
 *   <p>:nodes                     set of node ids (pruned when a node is lost)
 *   <p>:node:<id>                 the node's details, expires after the heartbeat timeout
 *   <p>:node:<id>:streamers       hash streamerId -> players on it
 *   <p>:node:<id>:sessions        hash sessionId -> {streamerId, streamerNode, playerNode, startedAt}
 *   <p>:streamer:<streamerId>     the node that holds this streamer id (claimed with SET NX)
 */
import { hostname } from "node:os";
import { createHash, randomBytes } from "node:crypto";
import type { Logger } from "pino";
import {
  ErrorCode,
  StreamerIdSchema,
  type HeartbeatSettings,
  type SessionCloseReason,
} from "@heartline/shared";
import type { Clock, TimerHandle } from "@heartline/shared/timing";
import { ClusterBus, type RejectReason } from "./ClusterBus.js";
import { NodeIdSchema, type BroadcastEnvelope, type Envelope, type OutgoingEnvelope } from "./envelopes.js";
import type { RedisLink } from "./RedisLink.js";

/** A player's request to open a session with a streamer on another node. */
export interface OpenRequest {
  sessionId: string;
  streamerId: string;
  playerId: string;
  /** The player's wire protocol; absent: heartline's own. */
  protocol?: "heartline" | "pixelstreaming";
}

export type OpenResult = { ok: true } | { ok: false; code: ErrorCode; message: string };

/** What the cluster stores about a session (written by the node that holds its player). */
export interface SessionRecord {
  sessionId: string;
  streamerId: string;
  streamerNode: string;
  playerNode: string;
  /** Epoch ms. */
  startedAt: number;
}

export interface LocalStreamer {
  streamerId: string;
  players: number;
  /** Absent: heartline's own protocol. */
  protocol?: "heartline" | "pixelstreaming";
  /** Disconnected but may resume: its id stays claimed, it is not listed. */
  away: boolean;
}

/** How the cluster reaches this node's sessions (implemented by RemoteSessions). */
export interface ClusterHandlers {
  open(from: string, request: OpenRequest): OpenResult;
  relay(from: string, sessionId: string, message: unknown): void;
  late(from: string, sessionId: string, late: boolean): void;
  close(from: string, sessionId: string, reason: SessionCloseReason): void;
  /**
   * Another node admits a streamer that presented the resume token of `streamerId` here: if the
   * token matches, end it here (its sessions end as streamer-left) and return true.
   */
  release(from: string, streamerId: string, tokenHash: string): boolean;
  /** `node` stopped beating (or said goodbye): end every session shared with it. */
  nodeLost(node: string): void;
  /**
   * `node` ended every session it shared with this node (it had declared this node lost): end
   * them here too, telling it of each (it may have opened one since).
   */
  peerDropped(node: string): void;
  /** The streamers on other nodes changed: tell this node's players. */
  remoteStreamersChanged(): void;
  localStreamers(): LocalStreamer[];
  localSessions(): SessionRecord[];
}

export interface ClusterNodeOptions {
  link: RedisLink;
  /** `cluster.secret`: signs and checks every frame between nodes (required). */
  secret: string | undefined;
  nodeId?: string | undefined;
  keyPrefix: string;
  requestTimeoutMs: number;
  heartbeat: HeartbeatSettings;
  clock: Clock;
  logger: Logger;
}

/** Lists of the cluster as the API and the dashboard show it. */
export interface ClusterView {
  nodeId: string;
  redis: "up" | "down";
  nodes: { nodeId: string; self: boolean; streamers: string[]; sessions: number }[];
}

interface RemoteNode {
  timer: TimerHandle | undefined;
  /** The node's streamer-list counter as last read; undefined until read. */
  streamersVersion: number | undefined;
  streamers: Map<string, number>;
  /** Those of its streamers that speak Pixel Streaming. */
  psStreamers: Set<string>;
  /** The node's own heartbeat timeout, as its beats say (0 until the first beat). */
  timeoutMs: number;
  /** The node's incarnation (its start time): a newer one means it restarted. */
  incarnation: number | undefined;
}

/** Lost nodes remembered, to tell them again if heard again (oldest forgotten first). */
const MAX_FORGOTTEN = 1024;

export interface RemoteStreamer {
  streamerId: string;
  players: number;
  nodeId: string;
  protocol: "heartline" | "pixelstreaming";
}

/**
 * A streamer's value in its node's hash: the viewer count, prefixed `ps:` for a Pixel Streaming
 * streamer (so the two protocols' players list only their own kind).
 */
function streamerValue(streamer: LocalStreamer): string {
  return streamer.protocol === "pixelstreaming" ? `ps:${streamer.players}` : String(streamer.players);
}

function parseStreamerValue(value: string): { players: number; pixelStreaming: boolean } {
  const pixelStreaming = value.startsWith("ps:");
  const players = Number(pixelStreaming ? value.slice(3) : value);
  return { players: Number.isFinite(players) ? players : 0, pixelStreaming };
}

interface Pending<T> {
  resolve(result: T): void;
  timer: TimerHandle;
}

/** Streamers listed per other node at most (a bound on what Redis can make a node hold). */
const MAX_REMOTE_STREAMERS = 100_000;

const CLAIM_IF_MINE = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
const RELEASE_IF_MINE = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1]) end return 0`;

export class ClusterNode {
  readonly nodeId: string;
  readonly #bus: ClusterBus;
  readonly #link: RedisLink;
  readonly #prefix: string;
  readonly #clock: Clock;
  readonly #log: Logger;
  #heartbeat: HeartbeatSettings;
  #requestTimeoutMs: number;
  #handlers: ClusterHandlers | undefined;
  readonly #nodes = new Map<string, RemoteNode>();
  /** Nodes declared lost (they may be alive: a one-sided partition) and not heard since. */
  readonly #forgotten = new Set<string>();
  /** Cross-node opens awaiting an answer, by session id. */
  readonly #pending = new Map<string, Pending<OpenResult>>();
  /** Releases awaiting an answer, by streamer id. */
  readonly #releases = new Map<string, Pending<boolean>>();
  /** Streamer ids this node holds the claim of. */
  readonly #claimed = new Set<string>();
  #streamersVersion = 0;
  #syncChain: Promise<void> = Promise.resolve();
  #syncQueued = false;
  /** Viewer counts changed since the streamer list was last written (written on the next beat). */
  #countsDirty = false;
  #beatTimer: TimerHandle | undefined;
  #closed = false;
  readonly #startedAt = Date.now();

  constructor(options: ClusterNodeOptions) {
    this.nodeId =
      options.nodeId ??
      `${hostname()
        .replace(/[^A-Za-z0-9_.-]/g, "-")
        .slice(0, 40)}-${randomBytes(3).toString("hex")}`;
    this.#link = options.link;
    this.#prefix = options.keyPrefix;
    this.#clock = options.clock;
    this.#log = options.logger.child({ nodeId: this.nodeId });
    this.#heartbeat = options.heartbeat;
    this.#requestTimeoutMs = options.requestTimeoutMs;
    if (options.secret === undefined || options.secret.length < 32) {
      throw new Error(
        "cluster.secret (at least 32 characters, the same on every hub) is required in multi-node mode",
      );
    }
    this.#bus = new ClusterBus({
      link: this.#link,
      prefix: this.#prefix,
      nodeId: this.nodeId,
      secret: options.secret,
      logger: this.#log,
    });
    this.#bus.onEnvelope((envelope, incarnation) => {
      this.#receive(envelope, incarnation);
    });
    this.#link.events.on("up", () => {
      void this.#resync();
    });
  }

  /** Starts beating and serving envelopes; returns at once even if Redis is down. */
  start(handlers: ClusterHandlers): void {
    this.#handlers = handlers;
    this.#scheduleBeat(0);
    if (this.#link.up) void this.#resync();
  }

  /** This node's signed channel to the others (tests send through it as this node would). */
  get bus(): ClusterBus {
    return this.#bus;
  }

  /** Messages from Redis dropped by the cluster's checks, by reason. */
  get rejected(): ReadonlyMap<RejectReason, number> {
    return this.#bus.rejected;
  }

  /** Envelopes signed by a node but invalid (a node of another version, or a bug). */
  get invalidEnvelopes(): number {
    return this.#bus.rejected.get("invalid") ?? 0;
  }

  get linkUp(): boolean {
    return this.#link.up;
  }

  /** The sizes of this node's maps, for leak checks (`heartline_internal_entries`). */
  internals(): Record<string, number> {
    return {
      "cluster.nodes": this.#nodes.size,
      "cluster.forgotten": this.#forgotten.size,
      "cluster.pending_opens": this.#pending.size,
      "cluster.pending_releases": this.#releases.size,
      "cluster.claimed": this.#claimed.size,
      "cluster.known_senders": this.#bus.knownSenders,
    };
  }

  /** Other nodes currently alive. */
  get nodeCount(): number {
    return this.#nodes.size;
  }

  reconfigure(heartbeat: HeartbeatSettings, requestTimeoutMs: number): void {
    this.#heartbeat = heartbeat;
    this.#requestTimeoutMs = requestTimeoutMs;
  }

  /** Every streamer listed on another live node, with its node. */
  remoteStreamers(): RemoteStreamer[] {
    const list: RemoteStreamer[] = [];
    for (const [nodeId, node] of this.#nodes) {
      for (const [streamerId, players] of node.streamers) {
        const protocol = node.psStreamers.has(streamerId) ? "pixelstreaming" : "heartline";
        list.push({ streamerId, players, nodeId, protocol });
      }
    }
    return list;
  }

  /**
   * The live node that holds `streamerId`: from what this node knows, or from its claim in
   * Redis. Undefined when no node holds it; throws ClusterUnavailableError while Redis is down.
   */
  async locateStreamer(streamerId: string): Promise<string | undefined> {
    for (const [nodeId, node] of this.#nodes) if (node.streamers.has(streamerId)) return nodeId;
    if (!this.#link.up) throw new ClusterUnavailableError();
    const holder = await this.#link.commands.get(this.#key("streamer", streamerId)).catch(() => {
      throw new ClusterUnavailableError();
    });
    // Only a node heard on the bus (signed beats) counts: a value Redis made up names none.
    return holder !== null && holder !== this.nodeId && this.#nodes.has(holder) ? holder : undefined;
  }

  /**
   * Claims `streamerId` for this node across the cluster. While Redis is down the claim is
   * granted locally and made when Redis is back (a conflict then is logged). A streamer that
   * presents a resume token takes its id over from the node that held it, if the token matches
   * there (it reconnected through the load balancer to this node).
   */
  async claimStreamer(
    streamerId: string,
    resumeToken?: string,
  ): Promise<{ ok: true } | { ok: false; heldBy: string }> {
    if (this.#claimed.has(streamerId)) return { ok: true };
    if (!this.#link.up) {
      this.#log.warn({ streamerId }, "redis is down: admitting the streamer without a cluster-wide claim");
      return { ok: true };
    }
    try {
      let holder = await this.#claim(streamerId);
      if (holder !== this.nodeId && resumeToken !== undefined && this.#nodes.has(holder)) {
        const released = await this.#requestRelease(holder, streamerId, tokenHash(resumeToken));
        this.#log.info(
          { streamerId, heldBy: holder, released },
          "streamer reconnected here from another node",
        );
        if (released) holder = await this.#claim(streamerId);
      }
      return holder === this.nodeId ? { ok: true } : { ok: false, heldBy: holder };
    } catch (error) {
      // Redis failed mid-claim: admit, as during an outage; the claim is made on the next sync.
      this.#log.warn({ err: error, streamerId }, "could not claim the streamer id in redis; admitting it");
      return { ok: true };
    }
  }

  #requestRelease(node: string, streamerId: string, hash: string): Promise<boolean> {
    if (
      this.#releases.has(streamerId) ||
      !this.send({ kind: "release", to: node, streamerId, tokenHash: hash })
    ) {
      return Promise.resolve(false);
    }
    return new Promise((resolve) => {
      const timer = this.#clock.setTimeout(() => {
        this.#releases.delete(streamerId);
        resolve(false);
      }, this.#requestTimeoutMs);
      this.#releases.set(streamerId, { resolve, timer });
    });
  }

  /** Lets go of a streamer id at once (before answering a release). */
  async #release(streamerId: string): Promise<void> {
    this.#claimed.delete(streamerId);
    await this.#link.commands.eval(RELEASE_IF_MINE, 1, this.#key("streamer", streamerId), this.nodeId);
  }

  /** This node's streamers changed (joined, left, away, back): update Redis and tell the others. */
  streamersChanged(): void {
    if (this.#syncQueued) return;
    this.#syncQueued = true;
    setImmediate(() => {
      this.#syncQueued = false;
      void this.#syncStreamers();
    });
  }

  /** A viewer joined or left one of this node's streamers: the counts go out with the next beat. */
  viewersChanged(): void {
    this.#countsDirty = true;
  }

  sessionStarted(record: SessionRecord): void {
    if (!this.#link.up) return;
    this.#link.commands
      .hset(this.#key("node", this.nodeId, "sessions"), record.sessionId, JSON.stringify(record))
      .catch(() => undefined);
  }

  sessionEnded(sessionId: string): void {
    if (!this.#link.up) return;
    this.#link.commands.hdel(this.#key("node", this.nodeId, "sessions"), sessionId).catch(() => undefined);
  }

  /** Sends to one node; false when Redis is down (nothing was sent). */
  send(envelope: OutgoingEnvelope): boolean {
    if (!this.#link.up || this.#closed) return false;
    this.#bus.publish({ ...envelope, from: this.nodeId });
    return true;
  }

  /**
   * Asks `node` to open the streamer's half of a session. `settled` gets the answer (or the
   * timeout) synchronously, while the answer's envelope is being handled: relays and a close
   * may follow `opened` in the same read from Redis, and they must find the session started.
   * A promise would settle a tick later, after them: the player would get an offer for a
   * session it was never told of, and a close would be dropped with the session still pending.
   */
  requestOpen(node: string, request: OpenRequest, settled: (result: OpenResult) => void): void {
    const unavailable = (why: string): OpenResult => ({
      ok: false,
      code: ErrorCode.ClusterUnavailable,
      message: `streamer '${request.streamerId}' is on hub node ${node}, which ${why}; try again in a few seconds`,
    });
    if (!this.send({ kind: "open", to: node, ...request })) {
      settled(unavailable("this hub cannot reach (Redis is down)"));
      return;
    }
    const timer = this.#clock.setTimeout(() => {
      this.#pending.delete(request.sessionId);
      settled(unavailable(`did not answer within ${this.#requestTimeoutMs} ms`));
    }, this.#requestTimeoutMs);
    this.#pending.set(request.sessionId, { resolve: settled, timer });
  }

  /** The cluster as Redis describes it (for the API); throws ClusterUnavailableError while down. */
  async view(): Promise<ClusterView> {
    if (!this.#link.up) throw new ClusterUnavailableError();
    const redis = this.#link.commands;
    // Shown to the operator as JSON: only well-formed names.
    const ids = (await redis.smembers(this.#key("nodes"))).filter((id) => NodeIdSchema.safeParse(id).success);
    ids.sort();
    const nodes: ClusterView["nodes"] = [];
    for (const nodeId of ids) {
      const [alive, streamers, sessions] = await Promise.all([
        redis.exists(this.#key("node", nodeId)),
        redis.hkeys(this.#key("node", nodeId, "streamers")),
        redis.hlen(this.#key("node", nodeId, "sessions")),
      ]);
      if (alive === 1) {
        const valid = streamers.filter((id) => StreamerIdSchema.safeParse(id).success).sort();
        nodes.push({ nodeId, self: nodeId === this.nodeId, streamers: valid, sessions });
      }
    }
    return { nodeId: this.nodeId, redis: "up", nodes };
  }

  /** Leaves the cluster: releases this node's keys and claims and says goodbye. */
  async close(): Promise<void> {
    if (this.#closed) return;
    // From here on nothing else goes out: a late streamer-list update after `bye` would make
    // the other nodes think this one joined again.
    this.#closed = true;
    if (this.#beatTimer !== undefined) this.#clock.clearTimeout(this.#beatTimer);
    for (const pending of [...this.#pending.values(), ...this.#releases.values()]) {
      this.#clock.clearTimeout(pending.timer);
    }
    this.#pending.clear();
    this.#releases.clear();
    for (const node of this.#nodes.values())
      if (node.timer !== undefined) this.#clock.clearTimeout(node.timer);
    this.#nodes.clear();
    if (this.#link.up) {
      this.#bus.publish({ kind: "bye", from: this.nodeId });
      const multi = this.#link.commands
        .multi()
        .del(this.#key("node", this.nodeId), this.#key("node", this.nodeId, "streamers"))
        .del(this.#key("node", this.nodeId, "sessions"))
        .srem(this.#key("nodes"), this.nodeId);
      for (const streamerId of this.#claimed) {
        multi.eval(RELEASE_IF_MINE, 1, this.#key("streamer", streamerId), this.nodeId);
      }
      await multi.exec().catch(() => undefined);
    }
    this.#claimed.clear();
  }

  /** Sends to every other node (beats and announcements). */
  #broadcast(envelope: BroadcastEnvelope): void {
    if (this.#closed) return;
    this.#bus.publish({ ...envelope, from: this.nodeId });
  }

  #key(...parts: string[]): string {
    return [this.#prefix, ...parts].join(":");
  }

  /** How long a node's keys and liveness last without a beat. */
  get #ttlMs(): number {
    return this.#heartbeat.timeoutMs + this.#beatMs;
  }

  get #beatMs(): number {
    return Math.max(100, Math.round(this.#heartbeat.intervalMs / 2));
  }

  /** SET NX the claim; returns the holder (this node if the claim is ours now). */
  async #claim(streamerId: string): Promise<string> {
    const key = this.#key("streamer", streamerId);
    const set = await this.#link.commands.set(key, this.nodeId, "PX", this.#ttlMs, "NX");
    if (set === "OK") {
      this.#claimed.add(streamerId);
      return this.nodeId;
    }
    const raw = (await this.#link.commands.get(key)) ?? this.nodeId;
    // The holder's name reaches a refused streamer's error text: only a node id gets there.
    const holder = NodeIdSchema.safeParse(raw).success ? raw : "(unknown: an invalid value in redis)";
    if (!NodeIdSchema.safeParse(raw).success) {
      this.#bus.reject("registry", "a streamer claim names no valid node", { streamerId });
    }
    if (holder === this.nodeId) this.#claimed.add(streamerId);
    return holder;
  }

  #scheduleBeat(delayMs: number): void {
    this.#beatTimer = this.#clock.setTimeout(() => {
      if (this.#closed) return;
      this.#beat();
      this.#scheduleBeat(this.#beatMs);
    }, delayMs);
  }

  #beat(): void {
    if (!this.#link.up) return;
    this.#broadcast({
      kind: "beat",
      streamers: this.#streamersVersion,
      timeoutMs: this.#heartbeat.timeoutMs,
    });
    const ttl = this.#ttlMs;
    const multi = this.#link.commands
      .multi()
      .set(
        this.#key("node", this.nodeId),
        JSON.stringify({ startedAt: this.#startedAt, pid: process.pid }),
        "PX",
        ttl,
      )
      .sadd(this.#key("nodes"), this.nodeId)
      .pexpire(this.#key("node", this.nodeId, "streamers"), ttl)
      .pexpire(this.#key("node", this.nodeId, "sessions"), ttl);
    for (const streamerId of this.#claimed) {
      multi.eval(CLAIM_IF_MINE, 1, this.#key("streamer", streamerId), this.nodeId, ttl);
    }
    multi.exec().catch((error: unknown) => {
      this.#log.debug({ err: error }, "beat not written to redis");
    });
    if (this.#countsDirty) {
      this.#countsDirty = false;
      this.streamersChanged();
    }
  }

  /** Writes this node's streamers (and claims new ones, releases gone ones); then tells the others. */
  #syncStreamers(): Promise<void> {
    // One write at a time, each from the state of its own moment, so the last one wins.
    this.#syncChain = this.#syncChain.then(() => this.#writeStreamers());
    return this.#syncChain;
  }

  async #writeStreamers(): Promise<void> {
    const handlers = this.#handlers;
    if (!handlers || this.#closed) return;
    if (!this.#link.up) return; // written in full by #resync when Redis is back
    const local = handlers.localStreamers();
    const ids = new Set(local.map((s) => s.streamerId));
    try {
      for (const streamerId of ids) {
        if (this.#claimed.has(streamerId)) continue;
        const holder = await this.#claim(streamerId);
        if (holder !== this.nodeId) {
          this.#log.warn(
            { streamerId, heldBy: holder },
            "streamer id is held by another node too (admitted here while redis was down)",
          );
        }
      }
      const hash = this.#key("node", this.nodeId, "streamers");
      const multi = this.#link.commands.multi().del(hash);
      for (const streamer of local)
        if (!streamer.away) multi.hset(hash, streamer.streamerId, streamerValue(streamer));
      multi.pexpire(hash, this.#ttlMs);
      for (const streamerId of [...this.#claimed]) {
        if (ids.has(streamerId)) continue;
        this.#claimed.delete(streamerId);
        multi.eval(RELEASE_IF_MINE, 1, this.#key("streamer", streamerId), this.nodeId);
      }
      await multi.exec();
      // The counter moves only once Redis has the list: a node that reads the list because the
      // counter moved must find it there (beats carry the counter too).
      this.#streamersVersion += 1;
      this.#broadcast({
        kind: "streamers",
        streamers: this.#streamersVersion,
        timeoutMs: this.#heartbeat.timeoutMs,
      });
    } catch (error) {
      this.#countsDirty = true; // try again with the next beat
      this.#log.warn({ err: error }, "could not write this node's streamers to redis; retrying");
    }
  }

  /** After (re)connecting: writes this node's whole state again; other nodes may have pruned it. */
  async #resync(): Promise<void> {
    const handlers = this.#handlers;
    if (!handlers || this.#closed) return;
    const sessions = handlers.localSessions();
    try {
      const hash = this.#key("node", this.nodeId, "sessions");
      const multi = this.#link.commands.multi().del(hash);
      for (const record of sessions) multi.hset(hash, record.sessionId, JSON.stringify(record));
      multi.pexpire(hash, this.#ttlMs);
      await multi.exec();
    } catch (error) {
      this.#log.warn({ err: error }, "could not write this node's sessions to redis");
    }
    this.#claimed.clear();
    this.#beat();
    await this.#syncStreamers();
    this.#log.info({ sessions: sessions.length }, "node state written to redis");
  }

  /** An envelope the bus accepted (signed, fresh, for this node, valid). */
  #receive(envelope: Envelope, incarnation: number): void {
    if (this.#closed) return;
    const known = this.#nodes.get(envelope.from);
    if (known?.incarnation !== undefined && incarnation > known.incarnation) {
      // It restarted within the heartbeat timeout: what it shared with this node is gone there.
      this.#log.warn({ node: envelope.from }, "hub node restarted: ending the sessions shared with it");
      known.streamersVersion = undefined;
      this.#handlers?.nodeLost(envelope.from);
    }
    if (known) known.incarnation = incarnation;
    try {
      this.#dispatch(envelope);
    } catch (error) {
      this.#log.error({ err: error, kind: envelope.kind, from: envelope.from }, "envelope handler failed");
    }
    const node = this.#nodes.get(envelope.from);
    if (node && node.incarnation === undefined) node.incarnation = incarnation;
  }

  #dispatch(envelope: Envelope): void {
    const handlers = this.#handlers;
    if (!handlers) return;
    switch (envelope.kind) {
      case "beat":
        this.#heard(envelope.from, envelope.streamers, envelope.timeoutMs);
        return;
      case "streamers":
        // A node first heard this way is judged by its own timeout, not this node's shorter one.
        this.#heard(envelope.from, envelope.streamers, envelope.timeoutMs);
        return;
      case "bye":
        this.#lost(envelope.from, "said goodbye");
        return;
      case "lost":
        // The sender dropped what it shared with this node: end the halves here too.
        this.#log.warn({ node: envelope.from }, "hub node ended every session shared with this node");
        handlers.peerDropped(envelope.from);
        return;
      case "open": {
        this.#heard(envelope.from, undefined);
        const result = handlers.open(envelope.from, envelope);
        this.send(
          result.ok
            ? { kind: "opened", to: envelope.from, sessionId: envelope.sessionId }
            : {
                kind: "refused",
                to: envelope.from,
                sessionId: envelope.sessionId,
                code: result.code,
                message: result.message,
              },
        );
        return;
      }
      case "opened":
      case "refused": {
        const pending = this.#pending.get(envelope.sessionId);
        if (!pending) return;
        this.#pending.delete(envelope.sessionId);
        this.#clock.clearTimeout(pending.timer);
        pending.resolve(
          envelope.kind === "opened"
            ? { ok: true }
            : { ok: false, code: envelope.code, message: envelope.message },
        );
        return;
      }
      case "release": {
        const { from, streamerId } = envelope;
        const released = handlers.release(from, streamerId, envelope.tokenHash);
        const answer = (ok: boolean): void => {
          this.send({ kind: "released", to: from, streamerId, released: ok });
        };
        if (!released) answer(false);
        else
          this.#release(streamerId).then(
            () => {
              answer(true);
            },
            () => {
              answer(false);
            },
          );
        return;
      }
      case "released": {
        const pending = this.#releases.get(envelope.streamerId);
        if (!pending) return;
        this.#releases.delete(envelope.streamerId);
        this.#clock.clearTimeout(pending.timer);
        pending.resolve(envelope.released);
        return;
      }
      case "relay":
        handlers.relay(envelope.from, envelope.sessionId, envelope.message);
        return;
      case "late":
        handlers.late(envelope.from, envelope.sessionId, envelope.late);
        return;
      case "close":
        handlers.close(envelope.from, envelope.sessionId, envelope.reason);
        return;
    }
  }

  /**
   * A sign of life from `nodeId`; `streamersVersion` (when given) says whether to re-read its
   * list; `timeoutMs` is the sender's own heartbeat timeout, from its beats.
   */
  #heard(nodeId: string, streamersVersion: number | undefined, timeoutMs?: number): void {
    let node = this.#nodes.get(nodeId);
    if (!node) {
      node = {
        timer: undefined,
        streamersVersion: undefined,
        streamers: new Map(),
        psStreamers: new Set(),
        timeoutMs: 0,
        incarnation: undefined,
      };
      this.#nodes.set(nodeId, node);
      this.#log.info({ node: nodeId }, "hub node joined");
      if (this.#forgotten.delete(nodeId)) {
        // Declared lost but alive (a one-sided partition): make sure it ended its halves too.
        this.send({ kind: "lost", to: nodeId });
      }
    }
    if (timeoutMs !== undefined) node.timeoutMs = timeoutMs;
    // The longer of the two timeouts: a node with a longer interval beats less often.
    const silenceMs = Math.max(this.#heartbeat.timeoutMs, node.timeoutMs);
    if (node.timer !== undefined) this.#clock.clearTimeout(node.timer);
    node.timer = this.#clock.setTimeout(() => {
      this.#lost(nodeId, `silent for ${silenceMs} ms`);
    }, silenceMs);
    if (streamersVersion !== undefined && streamersVersion !== node.streamersVersion) {
      node.streamersVersion = streamersVersion;
      void this.#readStreamers(nodeId, node);
    }
  }

  async #readStreamers(nodeId: string, node: RemoteNode): Promise<void> {
    try {
      const hash = await this.#link.commands.hgetall(this.#key("node", nodeId, "streamers"));
      if (this.#nodes.get(nodeId) !== node) return;
      const before = node.streamers;
      node.streamers = new Map();
      node.psStreamers = new Set();
      for (const [id, value] of Object.entries(hash)) {
        // Streamer ids reach players in their lists: only valid ones, and not without bound.
        if (!StreamerIdSchema.safeParse(id).success || node.streamers.size >= MAX_REMOTE_STREAMERS) {
          this.#bus.reject("registry", "a node's streamer list holds an invalid id, or too many", {
            node: nodeId,
          });
          continue;
        }
        const { players, pixelStreaming } = parseStreamerValue(value);
        node.streamers.set(id, players);
        if (pixelStreaming) node.psStreamers.add(id);
      }
      // Players are told when streamers come and go, as on one node; a changed viewer count
      // alone waits for the next list they ask for (pushing it would send every player a list
      // twice per interval while viewers churn).
      const sameIds =
        before.size === node.streamers.size && [...before.keys()].every((id) => node.streamers.has(id));
      if (!sameIds) this.#handlers?.remoteStreamersChanged();
    } catch {
      // Read again on the node's next beat.
      node.streamersVersion = undefined;
    }
  }

  #lost(nodeId: string, why: string): void {
    const node = this.#nodes.get(nodeId);
    if (!node) return;
    if (node.timer !== undefined) this.#clock.clearTimeout(node.timer);
    this.#nodes.delete(nodeId);
    this.#log.warn({ node: nodeId, why, redis: this.#link.up ? "up" : "down" }, "hub node lost");
    this.#handlers?.nodeLost(nodeId);
    // It may be alive (this node alone stopped hearing it): tell it to end its halves as well.
    this.send({ kind: "lost", to: nodeId });
    if (this.#forgotten.size >= MAX_FORGOTTEN) {
      const oldest = this.#forgotten.values().next().value;
      if (oldest !== undefined) this.#forgotten.delete(oldest);
    }
    this.#forgotten.add(nodeId);
    if (node.streamers.size > 0) this.#handlers?.remoteStreamersChanged();
    if (this.#link.up) this.#link.commands.srem(this.#key("nodes"), nodeId).catch(() => undefined);
  }
}

export class ClusterUnavailableError extends Error {
  readonly code = ErrorCode.ClusterUnavailable;
  constructor() {
    super("this hub cannot reach Redis right now");
    this.name = "ClusterUnavailableError";
  }
}

/** What travels instead of a resume token when another node must check it. */
export function tokenHash(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}
