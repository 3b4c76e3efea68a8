/**
 * The socket.io side of the hub: identifies each socket at the handshake, validates every
 * inbound message against the shared schema, and routes it by the identity the hub gave the
 * socket. Bad input gets an `error` back to its sender and a log line; it never throws out of a
 * handler and never reaches another session.
 */
import type { Logger } from "pino";
import {
  ErrorCode,
  type HandshakeError,
  MESSAGE_EVENT,
  PROTOCOL_VERSION,
  parsePlayerMessage,
  parseStreamerMessage,
  type HubMessage,
  type IceServer,
  type PlayerToHubMessage,
  type SessionEnd,
  type StreamerToHubMessage,
} from "@heartline/shared";
import type { HubConfig } from "@heartline/shared/config";
import type { AccessPolicy } from "../access/AccessPolicy.js";
import { turnCredentials } from "../access/turnCredentials.js";
import { systemClock } from "../heartbeat/clock.js";
import type { Peer, PeerTransport } from "../sessions/Peer.js";
import type { SessionRegistry } from "../sessions/SessionRegistry.js";
import type { Session } from "../sessions/Session.js";
import { clientAddress, handshakeMiddleware } from "./handshake.js";
import { TokenBucket } from "./TokenBucket.js";
import type { HubServer, HubSocket } from "./types.js";

const PLAYERS_ROOM = "players";

/** A peer's message that travels to the other end of its session. */
export type Relayed = Extract<
  StreamerToHubMessage | PlayerToHubMessage,
  { type: "ping" | "offer" | "iceCandidate" | "answer" | "pong" }
>;

/**
 * socket.io disconnect reasons that mean "goodbye", not "lost": the peer or the hub closed the
 * socket on purpose, so its sessions end at once instead of waiting for a resume.
 */
const DELIBERATE_DISCONNECTS = new Set(["client namespace disconnect", "server namespace disconnect"]);

/** What signaling reads from the hub's config (all of it may change while running). */
export type SignalingConfig = Pick<
  HubConfig,
  "iceServers" | "turn" | "limits" | "maxPlayers" | "trustProxy"
> & {
  heartbeat: Pick<HubConfig["heartbeat"], "logPingPong">;
};

/** What the hub knows about one socket beyond its peer. */
interface Connection {
  readonly transport: PeerTransport & { close(): void };
  readonly bucket: TokenBucket;
  /** Refused messages so far (rate-limited or invalid). */
  violations: number;
  /** When this socket was last told it is rate-limited (at most one such error a second). */
  rateLimitedAt: number;
}

/** Monitoring hooks (metrics, the dashboard): plain calls, no allocation per message. */
export interface SignalingProbe {
  /** A message took `seconds` from receipt to handled (forwarded, answered or refused). */
  handled(seconds: number): void;
  /** A message was refused or dropped with `code`. */
  rejected(code: ErrorCode): void;
  /** A streamer reported a session's heartbeat RTT. */
  heartbeatRtt(session: Session, rttMs: number): void;
  /** A handshake was refused with `code`. */
  handshakeRefused(code: HandshakeError): void;
}

/** Multi-node: what signaling asks of the cluster (cluster/RemoteSessions). */
export interface CrossNode {
  /** Whether this node can reach the other nodes now. */
  readonly linkUp: boolean;
  /** Streamers on other nodes, for the list players see. */
  remoteStreamers(): { streamerId: string; players: number }[];
  /** Claims a new streamer's id across the cluster (see HandshakeMiddlewareOptions). */
  claimStreamerId(
    streamerId: string,
    resumeToken?: string,
  ): Promise<{ ok: true } | { ok: false; heldBy: string }>;
  /** Opens a session with a streamer on another node; resolves to a refusal if it cannot. */
  subscribeRemote(
    player: Peer,
    streamerId: string,
  ): Promise<{ ok: true } | { ok: false; code: ErrorCode; message: string }>;
}

export class SignalingServer {
  /** Set by the hub to observe traffic; never part of the control flow. */
  probe: SignalingProbe | undefined;
  /** Set by the hub in multi-node mode. */
  crossNode: CrossNode | undefined;
  readonly #io: HubServer;
  readonly #registry: SessionRegistry;
  #config: SignalingConfig;
  readonly #access: AccessPolicy;
  readonly #log: Logger;
  readonly #debug: boolean;
  #streamerListQueued = false;
  /** Open sockets per remote address. */
  readonly #perAddress = new Map<string, number>();
  /** The connection each connected peer currently uses (a resume replaces it). */
  readonly #connections = new WeakMap<Peer, Connection>();

  constructor(
    io: HubServer,
    registry: SessionRegistry,
    config: SignalingConfig,
    access: AccessPolicy,
    logger: Logger,
  ) {
    this.#io = io;
    this.#registry = registry;
    this.#config = config;
    this.#access = access;
    this.#log = logger;
    this.#debug = logger.isLevelEnabled("debug");
    io.use(
      handshakeMiddleware(
        {
          isStreamerIdTaken: (id) => registry.isStreamerIdTaken(id),
          peerByToken: (token) => registry.peerByToken(token),
          access: this.#access,
          connectionsFrom: (address) => this.#perAddress.get(address) ?? 0,
          connectionsPerIp: () => this.#config.limits.connectionsPerIp,
          trustProxy: () => this.#config.trustProxy,
          refused: (code) => this.probe?.handshakeRefused(code),
          claimStreamerId: async (streamerId, resumeToken) =>
            this.crossNode ? this.crossNode.claimStreamerId(streamerId, resumeToken) : { ok: true },
        },
        logger,
      ),
    );
    io.on("connection", (socket) => {
      this.#onConnection(socket);
    });
    registry.observer.on("streamersChanged", () => {
      this.streamersChanged();
    });
  }

  /** Closes the socket `peer` uses now, if any (the peer itself is the registry's to remove). */
  disconnect(peer: Peer): void {
    this.#connections.get(peer)?.transport.close();
  }

  /** A live config change: every connected peer gets a fresh `config`. */
  update(config: SignalingConfig): void {
    this.#config = config;
    for (const peer of this.#registry.peers()) this.#sendConfig(peer);
  }

  #sendConfig(peer: Peer): void {
    const turn = turnCredentials(this.#config.turn, peer.id);
    const iceServers: IceServer[] = turn ? [...this.#config.iceServers, turn] : this.#config.iceServers;
    peer.send({
      type: "config",
      protocolVersion: PROTOCOL_VERSION,
      peerId: peer.id,
      heartbeat: this.#registry.settings,
      iceServers,
      resumeToken: peer.resumeToken,
    });
  }

  /**
   * Tells every player on this node the streamer list changed; coalesces bursts into one
   * broadcast. Each node tells its own players (`local`): the list includes other nodes'.
   */
  streamersChanged(): void {
    if (this.#streamerListQueued) return;
    this.#streamerListQueued = true;
    setImmediate(() => {
      this.#streamerListQueued = false;
      this.#io.local
        .to(PLAYERS_ROOM)
        .emit(MESSAGE_EVENT, { type: "streamerList", streamers: this.#streamerList() });
    });
  }

  /** Streamers on this node, then those on other nodes (multi-node). */
  #streamerList(): { streamerId: string; players: number }[] {
    const list = this.#registry.listStreamers();
    const remote = this.crossNode?.remoteStreamers() ?? [];
    if (remote.length === 0) return list;
    const local = new Set(list.map((s) => s.streamerId));
    for (const { streamerId, players } of remote)
      if (!local.has(streamerId)) list.push({ streamerId, players });
    return list;
  }

  #onConnection(socket: HubSocket): void {
    const { auth, resume } = socket.data;
    const address = clientAddress(socket, this.#config.trustProxy);
    this.#perAddress.set(address, (this.#perAddress.get(address) ?? 0) + 1);
    socket.once("disconnect", () => {
      const left = (this.#perAddress.get(address) ?? 1) - 1;
      if (left <= 0) this.#perAddress.delete(address);
      else this.#perAddress.set(address, left);
    });
    let stalled = false;
    const transport: PeerTransport & { close(): void } = {
      send: (message: HubMessage) => {
        if (stalled) return;
        // A reader that stopped reading makes its outbound queue grow without bound; past the
        // cap it is disconnected so memory stays bounded.
        if (bufferedBytes(socket) > this.#config.limits.maxBufferedBytes) {
          stalled = true;
          this.#log.warn(
            { address, buffered: bufferedBytes(socket), role: auth.role },
            "disconnecting a stalled reader (outbound buffer over limits.maxBufferedBytes)",
          );
          socket.disconnect(true);
          return;
        }
        socket.emit(MESSAGE_EVENT, message);
      },
      close: () => {
        socket.disconnect(true);
      },
    };
    const { messagesPerSecond, messageBurst } = this.#config.limits;
    const connection: Connection = {
      transport,
      bucket: new TokenBucket(messagesPerSecond, messageBurst, () => systemClock.now()),
      violations: 0,
      rateLimitedAt: Number.NEGATIVE_INFINITY,
    };

    let peer: Peer;
    let previous: { close(): void } | undefined;
    const wasAway = resume?.away ?? false;
    if (resume) {
      peer = resume;
      // A reconnect can beat the hub to noticing the old socket died (half-open TCP): the
      // token proves the identity, so the old socket is dropped without ending anything.
      previous = resume.away ? undefined : this.#connections.get(resume)?.transport;
      peer.attach(transport);
    } else {
      const added = this.#registry.addPeer(
        auth.role,
        auth.role === "streamer" ? auth.streamerId : undefined,
        transport,
      );
      if (!added) {
        this.#log.warn(
          { streamerId: auth.role === "streamer" ? auth.streamerId : undefined },
          "streamer id taken",
        );
        socket.disconnect(true);
        return;
      }
      peer = added;
      peer.onlyStreamerId = socket.data.onlyStreamerId;
    }
    this.#connections.set(peer, connection);
    const log = this.#log.child({ peerId: peer.id, role: peer.role });
    if (peer.role === "player") void socket.join(PLAYERS_ROOM);

    // Order matters to the peer: config, then resumed, then the sessions' states.
    this.#sendConfig(peer);
    if (auth.resumeToken !== undefined) {
      peer.send({ type: "resumed", sessionIds: resume ? [...peer.sessions].map((s) => s.id) : [] });
    }
    if (resume) {
      this.#registry.peerResumed(peer, wasAway);
      previous?.close();
    }
    log.info(
      { streamerId: peer.streamerId, address: socket.handshake.address, resumed: resume !== undefined },
      "peer connected",
    );

    socket.on(MESSAGE_EVENT, (raw: unknown) => {
      const receivedAt = performance.now();
      try {
        if (!connection.bucket.take()) {
          this.#rateLimited(peer, connection, log);
          return;
        }
        if (peer.role === "streamer") this.#onStreamerMessage(peer, raw, log);
        else this.#onPlayerMessage(peer, raw, log);
      } catch (error) {
        log.error({ err: error }, "message handler failed");
        this.#refuse(peer, log, ErrorCode.Internal, "the hub failed to handle this message", undefined);
      }
      this.probe?.handled((performance.now() - receivedAt) / 1000);
    });
    socket.onAny((event: unknown) => {
      if (event === MESSAGE_EVENT) return;
      this.#refuse(
        peer,
        log,
        ErrorCode.InvalidMessage,
        `unknown event; send every message as the '${MESSAGE_EVENT}' event`,
        undefined,
      );
    });
    socket.on("disconnect", (reason) => {
      // Replaced by a resumed socket: nothing ends.
      if (!peer.isUsing(transport)) return;
      this.#connections.delete(peer);
      const deliberate = DELIBERATE_DISCONNECTS.has(reason);
      log.info({ reason, sessions: peer.sessions.size, deliberate }, "peer disconnected");
      if (deliberate || this.#registry.settings.resumeGraceMs === 0) {
        this.#registry.removePeer(peer, peer.role === "streamer" ? "streamer-left" : "player-left");
      } else {
        this.#registry.peerAway(peer);
      }
    });
  }

  #rateLimited(peer: Peer, connection: Connection, log: Logger): void {
    this.probe?.rejected(ErrorCode.RateLimited);
    const now = systemClock.now();
    // One error a second at most: answering every dropped message would amplify a flood.
    if (now - connection.rateLimitedAt >= 1000) {
      connection.rateLimitedAt = now;
      log.warn({ limit: this.#config.limits.messagesPerSecond }, "rate limited");
      peer.send({
        type: "error",
        code: ErrorCode.RateLimited,
        message: `more than ${this.#config.limits.messagesPerSecond} messages per second; messages are being dropped`,
      });
    }
    this.#violation(connection, log);
  }

  /** Counts a refused message; past limits.maxViolations the socket is disconnected. */
  #violation(connection: Connection, log: Logger): void {
    connection.violations += 1;
    if (connection.violations === this.#config.limits.maxViolations) {
      log.warn({ violations: connection.violations }, "disconnecting a misbehaving peer");
      connection.transport.close();
    }
  }

  #onStreamerMessage(peer: Peer, raw: unknown, log: Logger): void {
    const parsed = parseStreamerMessage(raw);
    if (!parsed.ok) {
      this.#refuse(peer, log, parsed.code, parsed.reason, sessionIdOf(raw));
      return;
    }
    const message: StreamerToHubMessage = parsed.message;
    const session = this.#sessionFor(peer, message.sessionId, log);
    if (!session) return;
    this.#registry.heard(session, "streamer");
    switch (message.type) {
      case "ping":
        this.recordHeartbeat(session, message);
        if (this.#config.heartbeat.logPingPong)
          log.info({ sessionId: session.id, time: message.time }, "ping relayed");
        break;
      case "endSession":
        log.info({ sessionId: session.id, reason: message.reason }, "streamer ended the session");
        this.#registry.close(session, message.reason);
        return;
      default:
        if (this.#debug) log.debug({ sessionId: session.id, type: message.type }, "relayed to player");
    }
    this.#forward(peer, session, "player", message, log);
  }

  /** Keeps the heartbeat figures a ping or pong carries (on each node that sees it). */
  recordHeartbeat(session: Session, message: Relayed): void {
    const data = session.heartbeat;
    if (message.type === "ping") {
      if (message.rttMs !== undefined) {
        data.rttMs = message.rttMs;
        this.probe?.heartbeatRtt(session, message.rttMs);
      }
      if (message.mediaRttMs !== undefined) data.mediaRttMs = message.mediaRttMs;
      if (message.stats !== undefined) data.sendStats = message.stats;
    } else if (message.type === "pong" && message.stats !== undefined) {
      data.receiveStats = message.stats;
    }
  }

  /**
   * Hands a peer's message to the other end of its session, which may be on another node. A
   * relay that cannot leave this node (Redis is down) is refused to its sender, once a second.
   */
  #forward(sender: Peer, session: Session, to: SessionEnd, message: Relayed, log: Logger): void {
    if (session.peerAt(to).remote && this.crossNode?.linkUp !== true) {
      const now = systemClock.now();
      if (now - session.relayRefusedAt >= 1000) {
        session.relayRefusedAt = now;
        this.#refuse(
          sender,
          log,
          ErrorCode.ClusterUnavailable,
          "the other end is on another hub node that this hub cannot reach now; the session ends if that lasts past the heartbeat timeout",
          session.id,
        );
      }
      return;
    }
    this.deliver(session, to, message);
  }

  /**
   * Delivers a peer's message to the `to` end of its session: to its socket here, or through the
   * cluster to the node that holds it. Also called for messages another node relayed here.
   */
  deliver(session: Session, to: SessionEnd, message: Relayed): void {
    const target = session.peerAt(to);
    // An away player cannot answer: it owes nothing until it is back.
    if (message.type === "ping" && !target.away) this.#registry.pingRelayed(session);
    // A pong made the round trip: the session is live (on both nodes, when it spans two).
    if (message.type === "pong") this.#registry.pongRelayed(session);
    target.send(message);
  }

  #onPlayerMessage(peer: Peer, raw: unknown, log: Logger): void {
    const parsed = parsePlayerMessage(raw);
    if (!parsed.ok) {
      this.#refuse(peer, log, parsed.code, parsed.reason, sessionIdOf(raw));
      return;
    }
    const message: PlayerToHubMessage = parsed.message;
    switch (message.type) {
      case "listStreamers":
        peer.send({ type: "streamerList", streamers: this.#streamerList() });
        return;
      case "subscribe": {
        if (peer.onlyStreamerId !== undefined && peer.onlyStreamerId !== message.streamerId) {
          this.#refuse(
            peer,
            log,
            ErrorCode.NotAllowed,
            `this player's token is for streamer '${peer.onlyStreamerId}' only`,
            undefined,
          );
          return;
        }
        const { subscriptionsPerPlayer } = this.#config.limits;
        if (peer.sessions.size >= subscriptionsPerPlayer) {
          this.#refuse(
            peer,
            log,
            ErrorCode.TooManySubscriptions,
            `a player may hold ${subscriptionsPerPlayer} sessions at once; unsubscribe first`,
            undefined,
          );
          return;
        }
        const streamer = this.#registry.streamer(message.streamerId);
        if (!streamer && this.crossNode) {
          this.#subscribeRemote(peer, message.streamerId, this.crossNode, log);
          return;
        }
        if (streamer && streamer.sessions.size >= this.#config.maxPlayers) {
          this.#refuse(
            peer,
            log,
            ErrorCode.StreamerFull,
            `streamer '${message.streamerId}' already has ${this.#config.maxPlayers} players; try again later`,
            undefined,
          );
          return;
        }
        if (!streamer) {
          this.#refuse(
            peer,
            log,
            ErrorCode.StreamerNotFound,
            `no streamer '${message.streamerId}' is connected`,
            undefined,
          );
          return;
        }
        this.#registry.open(streamer, peer);
        return;
      }
      case "unsubscribe": {
        const session = this.#sessionFor(peer, message.sessionId, log);
        if (session) this.#registry.close(session, "unsubscribed");
        return;
      }
      case "endSession": {
        const session = this.#sessionFor(peer, message.sessionId, log);
        if (!session) return;
        log.info({ sessionId: session.id, reason: message.reason }, "player ended the session");
        this.#registry.close(session, message.reason);
        return;
      }
      case "answer":
      case "iceCandidate":
      case "pong": {
        const session = this.#sessionFor(peer, message.sessionId, log);
        if (!session) return;
        this.#registry.heard(session, "player");
        if (message.type === "pong") {
          this.recordHeartbeat(session, message);
          if (this.#config.heartbeat.logPingPong)
            log.info({ sessionId: session.id, time: message.time }, "pong relayed");
        } else if (this.#debug) {
          log.debug({ sessionId: session.id, type: message.type }, "relayed to streamer");
        }
        this.#forward(peer, session, "streamer", message, log);
        return;
      }
    }
  }

  /** `subscribe` to a streamer this node does not hold: ask the cluster (multi-node). */
  #subscribeRemote(peer: Peer, streamerId: string, crossNode: CrossNode, log: Logger): void {
    crossNode.subscribeRemote(peer, streamerId).then(
      (result) => {
        if (!result.ok) this.#refuse(peer, log, result.code, result.message, undefined);
      },
      (error: unknown) => {
        log.error({ err: error, streamerId }, "cross-node subscribe failed");
        this.#refuse(peer, log, ErrorCode.Internal, "the hub failed to open this session", undefined);
      },
    );
  }

  /** The session if `peer` is one of its ends; otherwise refuses the message. */
  #sessionFor(peer: Peer, sessionId: string, log: Logger): Session | undefined {
    const session = this.#registry.sessionOf(peer, sessionId);
    if (!session) {
      this.#refuse(peer, log, ErrorCode.SessionNotFound, "no such session for this peer", sessionId);
    }
    return session;
  }

  #refuse(peer: Peer, log: Logger, code: ErrorCode, message: string, sessionId: string | undefined): void {
    log.warn({ code, reason: message, sessionId }, "message refused");
    this.probe?.rejected(code);
    peer.send(
      sessionId === undefined
        ? { type: "error", code, message }
        : { type: "error", code, message, sessionId },
    );
    // Invalid input counts towards disconnection; a refusal of valid input (a full streamer,
    // a session that just ended) does not.
    if (code === ErrorCode.InvalidMessage || code === ErrorCode.NotAllowed) {
      const connection = this.#connections.get(peer);
      if (connection) this.#violation(connection, log);
    }
  }
}

/**
 * Bytes queued for this socket and not yet taken by the network: the WebSocket's own buffer plus
 * the packets engine.io holds back while the WebSocket has not drained. The packet queue is
 * empty for a healthy reader, so the loop costs nothing until a reader falls behind, and it never
 * grows past the cap because the reader is disconnected there.
 */
function bufferedBytes(socket: HubSocket): number {
  const conn = socket.conn as unknown as {
    writeBuffer: { data?: unknown }[];
    transport: { socket?: { bufferedAmount?: number } };
  };
  let bytes = conn.transport.socket?.bufferedAmount ?? 0;
  for (const packet of conn.writeBuffer) {
    if (typeof packet.data === "string") bytes += packet.data.length;
  }
  return bytes;
}

/** The session id a refused message named, if it is of the right form (echoed in the error). */
function sessionIdOf(raw: unknown): string | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const id = (raw as { sessionId?: unknown }).sessionId;
  return typeof id === "string" && id.length > 0 && id.length <= 64 ? id : undefined;
}
