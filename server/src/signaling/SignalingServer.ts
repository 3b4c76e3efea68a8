/**
 * The socket.io side of the hub: identifies each socket at the handshake, validates every
 * inbound message against the shared schema, and routes it by the identity the hub gave the
 * socket. Bad input gets an `error` back to its sender and a log line; it never throws out of a
 * handler and never reaches another session.
 */
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
import type { Peer, PeerTransport } from "../sessions/Peer.js";
import type { SessionRegistry } from "../sessions/SessionRegistry.js";
import type { Session } from "../sessions/Session.js";
import { handshakeMiddleware } from "./handshake.js";
import type { HubServer, HubSocket } from "./types.js";

const PLAYERS_ROOM = "players";

/**
 * socket.io disconnect reasons that mean "goodbye", not "lost": the peer or the hub closed the
 * socket on purpose, so its sessions end at once instead of waiting for a resume.
 */
const DELIBERATE_DISCONNECTS = new Set(["client namespace disconnect", "server namespace disconnect"]);

export interface SignalingOptions {
  iceServers: IceServer[];
  /** Log every relayed ping and pong. */
  logPingPong: boolean;
}

export class SignalingServer {
  readonly #io: HubServer;
  readonly #registry: SessionRegistry;
  #options: SignalingOptions;
  readonly #log: Logger;
  readonly #debug: boolean;
  #streamerListQueued = false;

  constructor(io: HubServer, registry: SessionRegistry, options: SignalingOptions, logger: Logger) {
    this.#io = io;
    this.#registry = registry;
    this.#options = options;
    this.#log = logger;
    this.#debug = logger.isLevelEnabled("debug");
    io.use(
      handshakeMiddleware(
        {
          isStreamerIdTaken: (id) => registry.isStreamerIdTaken(id),
          peerByToken: (token) => registry.peerByToken(token),
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

  /** New options (a live config change): every connected peer gets a fresh `config`. */
  update(options: SignalingOptions): void {
    this.#options = options;
    for (const peer of this.#registry.peers()) this.#sendConfig(peer);
  }

  #sendConfig(peer: Peer): void {
    peer.send({
      type: "config",
      protocolVersion: PROTOCOL_VERSION,
      peerId: peer.id,
      heartbeat: this.#heartbeat(),
      iceServers: this.#options.iceServers,
      resumeToken: peer.resumeToken,
    });
  }

  #heartbeat(): HeartbeatSettings {
    return this.#registry.settings;
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
    const transport: PeerTransport & { close(): void } = {
      send: (message: HubMessage) => {
        socket.emit(MESSAGE_EVENT, message);
      },
      close: () => {
        socket.disconnect(true);
      },
    };

    let peer: Peer;
    let previous: { close(): void } | undefined;
    const wasAway = resume?.away ?? false;
    if (resume) {
      peer = resume;
      // A reconnect can beat the hub to noticing the old socket died (half-open TCP): the
      // token proves the identity, so the old socket is dropped without ending anything.
      previous = resume.away ? undefined : this.#transports.get(resume);
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
    }
    this.#transports.set(peer, transport);
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
      // Replaced by a resumed socket: nothing ends.
      if (!peer.isUsing(transport)) return;
      this.#transports.delete(peer);
      const deliberate = DELIBERATE_DISCONNECTS.has(reason);
      log.info({ reason, sessions: peer.sessions.size, deliberate }, "peer disconnected");
      if (deliberate || this.#registry.settings.resumeGraceMs === 0) {
        this.#registry.removePeer(peer, peer.role === "streamer" ? "streamer-left" : "player-left");
      } else {
        this.#registry.peerAway(peer);
      }
    });
  }

  /** The socket each connected peer currently uses (to drop it when a resume replaces it). */
  readonly #transports = new WeakMap<Peer, { close(): void }>();

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
        if (message.rttMs !== undefined) data.rttMs = message.rttMs;
        if (message.mediaRttMs !== undefined) data.mediaRttMs = message.mediaRttMs;
        if (message.stats !== undefined) data.sendStats = message.stats;
        // An away player cannot answer: it owes nothing until it is back.
        if (!session.player.away) this.#registry.pingRelayed(session);
        if (this.#options.logPingPong)
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
