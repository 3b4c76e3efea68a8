/**
 * The socket.io side of the hub: identifies each socket at the handshake, validates every
 * inbound message against the shared schema, and routes it by the identity the hub gave the
 * socket. Bad input gets an `error` back to its sender and a log line; it never throws out of a
 * handler and never reaches another session.
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import {
  ErrorCode,
  MESSAGE_EVENT,
  PROTOCOL_VERSION,
  parsePlayerMessage,
  parseStreamerMessage,
  type HeartbeatSettings,
  type HubMessage,
  type IceServer,
  type PlayerToHubMessage,
  type StreamerToHubMessage,
} from "@heartline/shared";
import type { Peer } from "../sessions/Peer.js";
import type { SessionRegistry } from "../sessions/SessionRegistry.js";
import type { Session } from "../sessions/Session.js";
import { handshakeMiddleware } from "./handshake.js";
import type { HubServer, HubSocket } from "./types.js";

const PLAYERS_ROOM = "players";

export interface SignalingOptions {
  heartbeat: HeartbeatSettings;
  iceServers: IceServer[];
  /** Log every relayed ping and pong. */
  logPingPong: boolean;
}

export class SignalingServer {
  readonly #io: HubServer;
  readonly #registry: SessionRegistry;
  readonly #options: SignalingOptions;
  readonly #log: Logger;
  readonly #debug: boolean;
  #streamerListQueued = false;

  constructor(io: HubServer, registry: SessionRegistry, options: SignalingOptions, logger: Logger) {
    this.#io = io;
    this.#registry = registry;
    this.#options = options;
    this.#log = logger;
    this.#debug = logger.isLevelEnabled("debug");
    io.use(handshakeMiddleware((id) => registry.hasStreamer(id), logger));
    io.on("connection", (socket) => {
      this.#onConnection(socket);
    });
  }

  /** Tells every player the streamer list changed; coalesces bursts into one broadcast. */
  streamersChanged(): void {
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
    const { auth } = socket.data;
    const peer: Peer = {
      id: randomUUID(),
      role: auth.role,
      streamerId: auth.role === "streamer" ? auth.streamerId : undefined,
      sessions: new Set<Session>(),
      send: (message: HubMessage) => {
        socket.emit(MESSAGE_EVENT, message);
      },
    };
    const log = this.#log.child({ peerId: peer.id, role: peer.role });

    peer.send({
      type: "config",
      protocolVersion: PROTOCOL_VERSION,
      peerId: peer.id,
      heartbeat: this.#options.heartbeat,
      iceServers: this.#options.iceServers,
    });

    if (peer.role === "streamer") {
      // The handshake checked the id, but another streamer may have connected in between.
      if (!this.#registry.addStreamer(peer)) {
        log.warn({ streamerId: peer.streamerId }, "streamer id taken; disconnecting");
        socket.disconnect(true);
        return;
      }
    } else {
      void socket.join(PLAYERS_ROOM);
    }
    log.info({ streamerId: peer.streamerId, address: socket.handshake.address }, "peer connected");

    socket.on(MESSAGE_EVENT, (raw: unknown) => {
      try {
        if (peer.role === "streamer") this.#onStreamerMessage(peer, raw, log);
        else this.#onPlayerMessage(peer, raw, log);
      } catch (error) {
        log.error({ err: error }, "message handler failed");
        this.#refuse(peer, log, ErrorCode.Internal, "the hub failed to handle this message", undefined);
      }
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
      log.info({ reason, sessions: peer.sessions.size }, "peer disconnected");
      this.#registry.removePeer(peer, peer.role === "streamer" ? "streamer-left" : "player-left");
    });
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
    this.#registry.heartbeat.heard(session.id, "streamer");
    if (message.type === "ping") {
      this.#registry.heartbeat.pingRelayed(session.id);
      if (this.#options.logPingPong) log.info({ sessionId: session.id, time: message.time }, "ping relayed");
    } else if (this.#debug) {
      log.debug({ sessionId: session.id, type: message.type }, "relayed to player");
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
        const streamer = this.#registry.streamer(message.streamerId);
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
      case "answer":
      case "iceCandidate":
      case "pong": {
        const session = this.#sessionFor(peer, message.sessionId, log);
        if (!session) return;
        this.#registry.heartbeat.heard(session.id, "player");
        if (message.type === "pong") {
          if (session.markLive()) log.info({ sessionId: session.id }, "session live");
          if (this.#options.logPingPong)
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
    peer.send(
      sessionId === undefined
        ? { type: "error", code, message }
        : { type: "error", code, message, sessionId },
    );
  }
}

/** The session id a refused message named, if it is of the right form (echoed in the error). */
function sessionIdOf(raw: unknown): string | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const id = (raw as { sessionId?: unknown }).sessionId;
  return typeof id === "string" && id.length > 0 && id.length <= 64 ? id : undefined;
}
