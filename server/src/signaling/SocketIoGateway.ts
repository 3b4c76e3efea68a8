/**
 * The socket.io side of the hub: decides who each socket is at the handshake (origin, per-address
 * count, key or token, streamer id), then keeps what only a socket has: the rate bucket, the
 * stalled-reader cap, the per-address count, and what its disconnect reason means (a goodbye
 * ends its sessions at once, a lost link waits for a resume). Every message it receives goes to
 * the transport-free MessageRouter.
 */
import type { Logger } from "pino";
import type { IncomingMessage } from "node:http";
import { ErrorCode, HandshakeError, MESSAGE_EVENT, type HandshakeAuth } from "@heartline/shared";
import { clientAddressOf } from "../access/forwarded.js";
import type { HubConfig } from "@heartline/shared/config";
import type { AccessPolicy } from "../access/AccessPolicy.js";
import { unrefClock as systemClock } from "@heartline/shared/timing";
import type { Peer, PeerMessage, PeerTransport } from "../sessions/Peer.js";
import type { SessionRegistry } from "../sessions/SessionRegistry.js";
import { clientAddress, handshakeMiddleware } from "./handshake.js";
import type { CrossNode, MessageRouter, RoutedConnection } from "./MessageRouter.js";
import { TokenBucket } from "./TokenBucket.js";
import type { HubServer, HubSocket } from "./types.js";

const PLAYERS_ROOM = "players";

/**
 * The streamer list goes to every player at once for the first STREAMER_LIST_BURST changes, then
 * at most every STREAMER_LIST_INTERVAL_MS: each list costs players x streamers, so churning
 * streamers (anyone may stream in open mode) must not make the hub push one per change.
 */
export const STREAMER_LIST_INTERVAL_MS = 500;
export const STREAMER_LIST_BURST = 5;

/**
 * socket.io disconnect reasons that mean "goodbye", not "lost": the peer or the hub closed the
 * socket on purpose, so its sessions end at once instead of waiting for a resume.
 */
const DELIBERATE_DISCONNECTS = new Set(["client namespace disconnect", "server namespace disconnect"]);

/** What the gateway reads from the hub's config (all of it may change while running). */
export type GatewayConfig = Pick<HubConfig, "limits" | "trustProxy">;

/** Monitoring hooks (metrics): plain calls, no allocation per message. */
export interface GatewayProbe {
  /** A message took `seconds` from receipt to handled (forwarded, answered or refused). */
  handled(seconds: number): void;
  /** A message was refused or dropped with `code`. */
  rejected(code: ErrorCode): void;
  /** A handshake was refused with `code`. */
  handshakeRefused(code: HandshakeError): void;
  /** A socket was disconnected as a stalled reader. */
  stalledReader(): void;
}

export interface SocketIoGatewayOptions {
  io: HubServer;
  registry: SessionRegistry;
  router: MessageRouter;
  config: GatewayConfig;
  access: AccessPolicy;
  logger: Logger;
  crossNode?: CrossNode | undefined;
  probe?: GatewayProbe | undefined;
}

/** A socket's link: what the router needs, plus the socket's own rate state. */
interface Connection extends RoutedConnection {
  readonly transport: PeerTransport;
  readonly bucket: TokenBucket;
  /** When this socket was last told it is rate-limited (at most one such error a second). */
  rateLimitedAt: number;
}

export class SocketIoGateway {
  readonly #io: HubServer;
  readonly #registry: SessionRegistry;
  readonly #router: MessageRouter;
  readonly #probe: GatewayProbe | undefined;
  #config: GatewayConfig;
  readonly #log: Logger;
  #streamerListQueued = false;
  readonly #streamerLists = new TokenBucket(1000 / STREAMER_LIST_INTERVAL_MS, STREAMER_LIST_BURST, () =>
    systemClock.now(),
  );
  /**
   * Open engine.io connections per client address, counted from the transport handshake: also
   * those that have not (or never) sent socket.io's CONNECT, and those still being admitted.
   */
  readonly #perAddress = new Map<string, number>();

  /** Addresses holding sockets now (`heartline_internal_entries`, for leak checks). */
  get addressesCounted(): number {
    return this.#perAddress.size;
  }
  /**
   * The handshake `auth` (key or token) each peer was admitted with, by socket until it becomes
   * a peer: re-checked when it resumes. In memory only, never on the socket (which other hub
   * nodes can fetch) and never logged.
   */
  readonly #admittedWith = new WeakMap<object, HandshakeAuth>();

  constructor(options: SocketIoGatewayOptions) {
    const { io, registry, logger, crossNode } = options;
    this.#io = io;
    this.#registry = registry;
    this.#router = options.router;
    this.#config = options.config;
    this.#probe = options.probe;
    this.#log = logger;
    io.use(
      handshakeMiddleware(
        {
          isStreamerIdTaken: (id) => registry.isStreamerIdTaken(id),
          peerByToken: (token) => {
            const peer = registry.peerByToken(token);
            return peer?.protocol === "heartline" ? peer : undefined;
          },
          access: options.access,
          // Other connections than the one being admitted (which is counted already).
          connectionsFrom: (address) => (this.#perAddress.get(address) ?? 1) - 1,
          connectionsPerIp: () => this.#config.limits.connectionsPerIp,
          trustProxy: () => this.#config.trustProxy,
          refused: (code) => this.#probe?.handshakeRefused(code),
          refusals: this.#router.refusals,
          admitted: (socket, auth) => this.#admittedWith.set(socket, auth),
          admittedWith: (peer) => this.#admittedWith.get(peer),
          claimStreamerId: async (streamerId, resumeToken) =>
            crossNode ? crossNode.claimStreamerId(streamerId, resumeToken) : { ok: true },
        },
        logger,
      ),
    );
    this.#countEngineConnections(io);
    io.on("connection", (socket) => {
      this.#onConnection(socket);
    });
    registry.observer.on("streamersChanged", () => {
      this.streamersChanged();
    });
  }

  /** A live config change: every connected heartline peer gets a fresh `config`. */
  update(config: GatewayConfig): void {
    this.#config = config;
    for (const peer of this.#registry.peers())
      if (peer.protocol === "heartline") this.#router.sendConfig(peer);
  }

  /**
   * Tells every heartline player on this node the streamer list changed: at once while changes
   * are few, then at most every STREAMER_LIST_INTERVAL_MS, each list carrying every change since
   * the last. Each node tells its own players (`local`): the list includes other nodes'.
   */
  streamersChanged(): void {
    if (this.#streamerListQueued) return;
    this.#streamerListQueued = true;
    const send = (): void => {
      this.#streamerListQueued = false;
      this.#io.local
        .to(PLAYERS_ROOM)
        .emit(MESSAGE_EVENT, { type: "streamerList", streamers: this.#router.streamerList() });
    };
    if (this.#streamerLists.take()) setImmediate(send);
    else setTimeout(send, STREAMER_LIST_INTERVAL_MS).unref();
  }

  #onConnection(socket: HubSocket): void {
    const { auth, resume } = socket.data;
    socket.data.resume = undefined; // a Peer holds its resume token: not left on the socket
    const address = clientAddress(socket, this.#config.trustProxy);
    let stalled = false;
    const transport: PeerTransport = {
      send: (message: PeerMessage) => {
        // Pixel Streaming frames never reach a heartline peer (sessions never mix protocols).
        if (stalled || message.type === "ps") return;
        // A reader that stopped reading makes its outbound queue grow without bound; past the
        // cap it is disconnected so memory stays bounded.
        if (bufferedBytes(socket) > this.#config.limits.maxBufferedBytes) {
          stalled = true;
          this.#log.warn(
            { address, buffered: bufferedBytes(socket), role: auth.role },
            "disconnecting a stalled reader (outbound buffer over limits.maxBufferedBytes)",
          );
          this.#probe?.stalledReader();
          socket.disconnect(true);
          return;
        }
        socket.emit(MESSAGE_EVENT, message);
      },
      close: () => {
        socket.disconnect(true);
      },
    };

    let peer: Peer;
    let previous: PeerTransport | undefined;
    const wasAway = resume?.away ?? false;
    if (resume) {
      peer = resume;
      // A reconnect can beat the hub to noticing the old socket died (half-open TCP): the
      // token proves the identity, so the old socket is dropped (below) without ending anything.
      previous = peer.attach(transport);
      // A resume token works once: the peer gets a new one in the config below, so a copy of the
      // old one (stolen, or replayed) can no longer take this peer over.
      this.#registry.rotateResumeToken(peer);
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
      const admittedWith = this.#admittedWith.get(socket);
      if (admittedWith) this.#admittedWith.set(peer, admittedWith);
      peer.tokenId = socket.data.tokenId;
    }
    peer.features = new Set(auth.features);
    const log = this.#log.child({ peerId: peer.id, role: peer.role });
    const { messagesPerSecond, messageBurst } = this.#config.limits;
    const connection: Connection = {
      peer,
      log,
      debug: log.isLevelEnabled("debug"),
      transport,
      bucket: new TokenBucket(messagesPerSecond, messageBurst, () => systemClock.now()),
      violations: 0,
      rateLimitedAt: Number.NEGATIVE_INFINITY,
      close: () => {
        transport.close();
      },
    };
    if (peer.role === "player") void socket.join(PLAYERS_ROOM);

    // Order matters to the peer: config, then resumed, then the sessions' states.
    this.#router.sendConfig(peer);
    if (auth.resumeToken !== undefined) {
      peer.send({ type: "resumed", sessionIds: resume ? [...peer.sessions].map((s) => s.id) : [] });
    }
    if (resume) {
      this.#registry.peerResumed(peer, wasAway);
      previous?.close();
      // A `playerJoined` sent while the link was failing may never have arrived: a streamer
      // that has made no offer in a resumed session hears of it again (a duplicate is a no-op).
      if (peer.role === "streamer") {
        for (const session of peer.sessions) {
          if (session.state !== "pending" && !session.offered)
            peer.send({ type: "playerJoined", sessionId: session.id });
        }
      }
    }
    log.info({ streamerId: peer.streamerId, address, resumed: resume !== undefined }, "peer connected");

    // engine.io's pong is answered by the peer's own event loop (socket.io runs in it): a
    // streamer whose heartbeat lapsed is running again once it answers one.
    socket.conn.on("heartbeat", () => {
      peer.unresponsive = false;
    });
    socket.on(MESSAGE_EVENT, (raw: unknown) => {
      const receivedAt = performance.now();
      if (connection.bucket.take()) this.#router.route(connection, raw);
      else this.#rateLimited(connection);
      this.#probe?.handled((performance.now() - receivedAt) / 1000);
    });
    socket.onAny((event: unknown) => {
      if (event === MESSAGE_EVENT) return;
      this.#router.refuse(
        connection,
        ErrorCode.InvalidMessage,
        `unknown event; send every message as the '${MESSAGE_EVENT}' event`,
        undefined,
      );
    });
    socket.on("disconnect", (reason) => {
      // Replaced by a resumed socket: nothing ends.
      if (!peer.isUsing(transport)) return;
      const deliberate = DELIBERATE_DISCONNECTS.has(reason);
      log.info({ reason, sessions: peer.sessions.size, deliberate }, "peer disconnected");
      if (deliberate || this.#registry.settings.resumeGraceMs === 0) {
        this.#registry.removePeer(peer, peer.role === "streamer" ? "streamer-left" : "player-left");
      } else {
        this.#registry.peerAway(peer);
      }
    });
  }

  /**
   * Counts connections per address at the transport handshake, before socket.io's CONNECT and
   * the asynchronous key or token check, so neither idle transports (that never send CONNECT and
   * would each be held for socket.io's connect timeout) nor a burst of simultaneous CONNECTs can
   * exceed `limits.connectionsPerIp`: a CONNECT past it is refused with `too-many-connections`.
   * Transports themselves are refused (HTTP 400) past twice the limit plus ten, so refused ones,
   * whose sockets close a moment later, leave room for the readable code while idle transports
   * cannot pile up.
   */
  #countEngineConnections(io: HubServer): void {
    io.engine.opts.allowRequest = (req, callback) => {
      const address = clientAddressOf(req.headers, req.socket.remoteAddress ?? "", this.#config.trustProxy);
      if ((this.#perAddress.get(address) ?? 0) >= 2 * this.#config.limits.connectionsPerIp + 10) {
        this.#probe?.handshakeRefused(HandshakeError.TooManyConnections);
        callback("too many connections from this address", false);
        return;
      }
      callback(null, true);
    };
    io.engine.on(
      "connection",
      (raw: { request: IncomingMessage; once(event: "close", fn: () => void): void }) => {
        const address = clientAddressOf(
          raw.request.headers,
          raw.request.socket.remoteAddress ?? "",
          this.#config.trustProxy,
        );
        this.#perAddress.set(address, (this.#perAddress.get(address) ?? 0) + 1);
        raw.once("close", () => {
          const left = (this.#perAddress.get(address) ?? 1) - 1;
          if (left <= 0) this.#perAddress.delete(address);
          else this.#perAddress.set(address, left);
        });
      },
    );
  }

  #rateLimited(connection: Connection): void {
    this.#probe?.rejected(ErrorCode.RateLimited);
    const now = systemClock.now();
    // One error a second at most: answering every dropped message would amplify a flood.
    if (now - connection.rateLimitedAt >= 1000) {
      connection.rateLimitedAt = now;
      const limit = this.#config.limits.messagesPerSecond;
      this.#router.refusals.warn(connection.log, { code: ErrorCode.RateLimited, limit }, "rate limited");
      connection.peer.send({
        type: "error",
        code: ErrorCode.RateLimited,
        message: `more than ${limit} messages per second; messages are being dropped`,
      });
    }
    this.#router.violation(connection);
  }
}

/**
 * Bytes queued for this socket and not yet taken by the network: the WebSocket's own buffer plus
 * the packets engine.io holds back while the WebSocket has not drained. The packet queue is
 * empty for a healthy reader, so the loop costs nothing until a reader falls behind, and it never
 * grows past the cap because the reader is disconnected there.
 */
export function bufferedBytes(socket: { conn: unknown }): number {
  const conn = socket.conn as {
    writeBuffer: { data?: unknown }[];
    transport: { socket?: { bufferedAmount?: number } };
  };
  let bytes = conn.transport.socket?.bufferedAmount ?? 0;
  for (const packet of conn.writeBuffer) {
    if (typeof packet.data === "string") bytes += packet.data.length;
  }
  return bytes;
}
