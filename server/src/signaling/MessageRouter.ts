/**
 * heartline's own protocol, transport-free: parses what a peer sent by its role, refuses bad
 * input with a code (counting violations towards disconnection), and dispatches the rest:
 * relays go to `sessions/SessionRelay`, subscribes through `sessions/admission`, and session
 * ends to the registry. It routes by the identity the hub gave the peer, never by ids a client
 * claims. The socket.io gateway (SocketIoGateway) feeds it; it never sees a socket.
 */
import { RefusalLog } from "../access/RefusalLog.js";
import type { Logger } from "pino";
import {
  ErrorCode,
  PROTOCOL_VERSION,
  isRelayed,
  parsePlayerMessage,
  parseStreamerMessage,
  type IceServer,
  type PlayerToHubMessage,
  type StreamerToHubMessage,
  type ByeMessage,
  type MediaReportMessage,
  type ProbeAckMessage,
} from "@heartline/shared";
import type { HubConfig } from "@heartline/shared/config";
import { turnCredentials } from "../access/turnCredentials.js";
import { refusePlayer, refuseStreamer, type Refusal } from "../sessions/admission.js";
import type { Peer } from "../sessions/Peer.js";
import type { SessionRegistry } from "../sessions/SessionRegistry.js";
import type { RelayOutcome, SessionRelay } from "../sessions/SessionRelay.js";
import type { Session } from "../sessions/Session.js";

/** What routing reads from the hub's config (all of it may change while running). */
export type RouterConfig = Pick<HubConfig, "iceServers" | "turn" | "limits" | "maxPlayers"> & {
  heartbeat: Pick<HubConfig["heartbeat"], "logPingPong">;
};

/** One peer's link as the router sees it: whose it is, and how to end it. */
export interface RoutedConnection {
  readonly peer: Peer;
  readonly log: Logger;
  /** Whether `log` writes debug lines (read once per connection, not per message). */
  readonly debug: boolean;
  /** Refused messages so far (rate-limited or invalid). */
  violations: number;
  /** Closes this connection's socket. */
  close(): void;
}

/** Monitoring hooks (metrics): plain calls, no allocation per message. */
export interface RouterProbe {
  /** A message was refused or dropped with `code`. */
  rejected(code: ErrorCode): void;
}

/** Multi-node: what routing asks of the cluster (cluster/RemoteSessions). */
export interface CrossNode {
  /** Whether this node can reach the other nodes now. */
  readonly linkUp: boolean;
  /** Streamers on other nodes, for the list players see. */
  remoteStreamers(): { streamerId: string; players: number; protocol?: string }[];
  /** Claims a new streamer's id across the cluster (see HandshakeMiddlewareOptions). */
  claimStreamerId(
    streamerId: string,
    resumeToken?: string,
  ): Promise<{ ok: true } | { ok: false; heldBy: string }>;
  /** Opens a session with a streamer on another node; resolves to a refusal if it cannot. */
  subscribeRemote(player: Peer, streamerId: string): Promise<{ ok: true } | ({ ok: false } & Refusal)>;
}

export interface MessageRouterOptions {
  registry: SessionRegistry;
  relay: SessionRelay;
  config: RouterConfig;
  crossNode?: CrossNode | undefined;
  probe?: RouterProbe | undefined;
  /** Throttles refusal lines (a flood of bad messages must not flood the log). */
  refusals?: RefusalLog | undefined;
}

export class MessageRouter {
  readonly #registry: SessionRegistry;
  readonly #relay: SessionRelay;
  readonly #crossNode: CrossNode | undefined;
  readonly #probe: RouterProbe | undefined;
  readonly #refusals: RefusalLog;
  #config: RouterConfig;

  constructor(options: MessageRouterOptions) {
    this.#registry = options.registry;
    this.#relay = options.relay;
    this.#config = options.config;
    this.#crossNode = options.crossNode;
    this.#probe = options.probe;
    this.#refusals = options.refusals ?? new RefusalLog();
  }

  /** The shared refusal-line throttle (the gateway writes its rate-limit lines through it too). */
  get refusals(): RefusalLog {
    return this.#refusals;
  }

  update(config: RouterConfig): void {
    this.#config = config;
  }

  /** The peer's `config`: its id, the heartbeat, ICE servers (with TURN credentials), resume token. */
  sendConfig(peer: Peer): void {
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

  /** Streamers of this protocol on this node, then those on other nodes (multi-node). */
  streamerList(): { streamerId: string; players: number }[] {
    const list = this.#registry.listStreamers("heartline");
    const remote = this.#crossNode?.remoteStreamers() ?? [];
    if (remote.length === 0) return list;
    const local = new Set(list.map((s) => s.streamerId));
    for (const { streamerId, players, protocol } of remote)
      if (!local.has(streamerId) && protocol !== "pixelstreaming") list.push({ streamerId, players });
    return list;
  }

  /** One message from the connection's peer, as it arrived. Never throws. */
  route(connection: RoutedConnection, raw: unknown): void {
    // Anything at all from the peer proves it is running again.
    connection.peer.unresponsive = false;
    try {
      if (connection.peer.role === "streamer") this.#onStreamerMessage(connection, raw);
      else this.#onPlayerMessage(connection, raw);
    } catch (error) {
      connection.log.error({ err: error }, "message handler failed");
      this.refuse(connection, ErrorCode.Internal, "the hub failed to handle this message", undefined);
    }
  }

  /**
   * Tells the peer its message was refused, and counts invalid input towards disconnection (a
   * refusal of valid input, such as a full streamer or a session that just ended, does not).
   */
  refuse(
    connection: RoutedConnection,
    code: ErrorCode,
    message: string,
    sessionId: string | undefined,
  ): void {
    this.#refusals.warn(connection.log, { code, reason: message, sessionId }, "message refused");
    this.#probe?.rejected(code);
    connection.peer.send(
      sessionId === undefined
        ? { type: "error", code, message }
        : { type: "error", code, message, sessionId },
    );
    if (code === ErrorCode.InvalidMessage || code === ErrorCode.NotAllowed) this.violation(connection);
  }

  /** Counts a refused message; past limits.maxViolations the connection is closed. */
  violation(connection: RoutedConnection): void {
    connection.violations += 1;
    if (connection.violations === this.#config.limits.maxViolations) {
      connection.log.warn({ violations: connection.violations }, "disconnecting a misbehaving peer");
      connection.close();
    }
  }

  #onStreamerMessage(connection: RoutedConnection, raw: unknown): void {
    const parsed = parseStreamerMessage(raw);
    if (!parsed.ok) {
      this.refuse(connection, parsed.code, parsed.reason, sessionIdOf(raw));
      return;
    }
    const message: StreamerToHubMessage = parsed.message;
    if (message.type === "probeAck" || message.type === "mediaReport" || message.type === "bye") {
      this.#onLiveness(connection, message);
      return;
    }
    const session = this.#sessionFor(connection, message.sessionId);
    if (!session) return;
    if (isRelayed("streamer", message)) {
      if (message.type === "ping") {
        if (this.#config.heartbeat.logPingPong)
          connection.log.info({ sessionId: session.id, time: message.time }, "ping relayed");
      } else if (connection.debug) {
        connection.log.debug({ sessionId: session.id, type: message.type }, "relayed to player");
      }
      this.#relayed(connection, session, this.#relay.relay(session, "streamer", message));
      return;
    }
    connection.log.info({ sessionId: session.id, reason: message.reason }, "streamer ended the session");
    this.#registry.close(session, message.reason);
  }

  #onPlayerMessage(connection: RoutedConnection, raw: unknown): void {
    const parsed = parsePlayerMessage(raw);
    if (!parsed.ok) {
      this.refuse(connection, parsed.code, parsed.reason, sessionIdOf(raw));
      return;
    }
    const message: PlayerToHubMessage = parsed.message;
    const { peer } = connection;
    switch (message.type) {
      case "probeAck":
      case "mediaReport":
      case "bye":
        this.#onLiveness(connection, message);
        return;
      case "listStreamers":
        peer.send({ type: "streamerList", streamers: this.streamerList() });
        return;
      case "subscribe":
        this.#subscribe(connection, message.streamerId);
        return;
      case "unsubscribe": {
        const session = this.#sessionFor(connection, message.sessionId);
        if (session) this.#registry.close(session, "unsubscribed");
        return;
      }
      case "endSession": {
        const session = this.#sessionFor(connection, message.sessionId);
        if (!session) return;
        connection.log.info({ sessionId: session.id, reason: message.reason }, "player ended the session");
        this.#registry.close(session, message.reason);
        return;
      }
      case "answer":
      case "iceCandidate":
      case "pong": {
        const session = this.#sessionFor(connection, message.sessionId);
        if (!session) return;
        if (message.type === "pong") {
          if (this.#config.heartbeat.logPingPong)
            connection.log.info({ sessionId: session.id, time: message.time }, "pong relayed");
        } else if (connection.debug) {
          connection.log.debug({ sessionId: session.id, type: message.type }, "relayed to streamer");
        }
        this.#relayed(connection, session, this.#relay.relay(session, "player", message));
        return;
      }
    }
  }

  /** Either role's answers to the hub's liveness questions, and its goodbye. */
  #onLiveness(
    connection: RoutedConnection,
    message: ProbeAckMessage | MediaReportMessage | ByeMessage,
  ): void {
    const { peer } = connection;
    switch (message.type) {
      case "probeAck":
        this.#registry.probeAnswered(peer, message.probeId);
        return;
      case "mediaReport": {
        const session = this.#sessionFor(connection, message.sessionId);
        if (session) this.#registry.mediaReported(session, peer, message.checkId, message.flowing);
        return;
      }
      case "bye":
        connection.log.info({ sessions: peer.sessions.size }, "peer said goodbye");
        this.#registry.removePeer(peer, peer.role === "streamer" ? "streamer-left" : "player-left");
        connection.close();
        return;
    }
  }

  #relayed(connection: RoutedConnection, session: Session, outcome: RelayOutcome): void {
    if (outcome !== "unreachable") return;
    this.refuse(
      connection,
      ErrorCode.ClusterUnavailable,
      "the other end is on another hub node that this hub cannot reach now; the session ends if that lasts past the heartbeat timeout",
      session.id,
    );
  }

  #subscribe(connection: RoutedConnection, streamerId: string): void {
    const { peer } = connection;
    const { sessionsPerToken } = this.#config.limits;
    const refusal =
      refusePlayer(peer, streamerId, this.#config.limits.subscriptionsPerPlayer) ??
      (this.#registry.sessionsHeldWithToken(peer) >= sessionsPerToken
        ? {
            code: ErrorCode.TokenSessionsFull,
            message: `this player token already holds ${sessionsPerToken} sessions on other sockets (limits.sessionsPerToken); close a player using the same link, or ask the operator for a link of your own`,
          }
        : undefined) ??
      (this.#crossNode && !this.#registry.streamer(streamerId)
        ? undefined
        : refuseStreamer(
            this.#registry.streamer(streamerId),
            streamerId,
            "heartline",
            this.#config.maxPlayers,
          ));
    if (refusal) {
      this.refuse(connection, refusal.code, refusal.message, undefined);
      return;
    }
    const streamer = this.#registry.streamer(streamerId);
    if (streamer) {
      this.#registry.open(streamer, peer);
      return;
    }
    // Not on this node: ask the cluster (multi-node; a single node refused above).
    this.#crossNode?.subscribeRemote(peer, streamerId).then(
      (result) => {
        if (!result.ok) this.refuse(connection, result.code, result.message, undefined);
      },
      (error: unknown) => {
        connection.log.error({ err: error, streamerId }, "cross-node subscribe failed");
        this.refuse(connection, ErrorCode.Internal, "the hub failed to open this session", undefined);
      },
    );
  }

  /** The session if the peer is one of its ends; otherwise refuses the message. */
  #sessionFor(connection: RoutedConnection, sessionId: string): Session | undefined {
    const session = this.#registry.sessionOf(connection.peer, sessionId);
    if (!session) {
      this.refuse(connection, ErrorCode.SessionNotFound, "no such session for this peer", sessionId);
    }
    return session;
  }
}

/** The session id a refused message named, if it is of the right form (echoed in the error). */
function sessionIdOf(raw: unknown): string | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const id = (raw as { sessionId?: unknown }).sessionId;
  return typeof id === "string" && id.length > 0 && id.length <= 64 ? id : undefined;
}
