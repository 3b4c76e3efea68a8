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

export class SignalingServer {
  /** Set by the hub to observe traffic; never part of the control flow. */
  probe: SignalingProbe | undefined;
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
        },
        logger,
      ),
    );
    io.on("connection", (socket) => {
      this.#onConnection(socket);
    });
    registry.observer.on("streamersChanged", () => {
      this.#streamersChanged();
    });
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

  /** Tells every player the streamer list changed; coalesces bursts into one broadcast. */
  #streamersChanged(): void {
    if (this.#streamerListQueued) return;
    this.#streamerListQueued = true;
    setImmediate(() => {
      this.#streamerListQueued = false;
      this.#io
        .to(PLAYERS_ROOM)
        .emit(MESSAGE_EVENT, { type: "streamerList", streamers: this.#registry.listStreamers() });
    });
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
      case "ping": {
        const data = session.heartbeat;
        if (message.rttMs !== undefined) {
          data.rttMs = message.rttMs;
          this.probe?.heartbeatRtt(session, message.rttMs);
        }
        if (message.mediaRttMs !== undefined) data.mediaRttMs = message.mediaRttMs;
        if (message.stats !== undefined) data.sendStats = message.stats;
        // An away player cannot answer: it owes nothing until it is back.
        if (!session.player.away) this.#registry.pingRelayed(session);
        if (this.#config.heartbeat.logPingPong)
          log.info({ sessionId: session.id, time: message.time }, "ping relayed");
        break;
      }
      case "endSession":
        log.info({ sessionId: session.id, reason: message.reason }, "streamer ended the session");
        this.#registry.close(session, message.reason);
        return;
      default:
        if (this.#debug) log.debug({ sessionId: session.id, type: message.type }, "relayed to player");
    }
    session.player.send(message);
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
        peer.send({ type: "streamerList", streamers: this.#registry.listStreamers() });
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
          if (message.stats !== undefined) session.heartbeat.receiveStats = message.stats;
          this.#registry.pongRelayed(session);
          if (this.#config.heartbeat.logPingPong)
            log.info({ sessionId: session.id, time: message.time }, "pong relayed");
        } else if (this.#debug) {
          log.debug({ sessionId: session.id, type: message.type }, "relayed to streamer");
        }
        session.streamer.send(message);
        return;
      }
    }
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
