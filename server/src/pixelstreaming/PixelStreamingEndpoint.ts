/**
 * Epic's Pixel Streaming signalling on the hub's own HTTP(S) port, so Unreal and Epic's frontend
 * work through heartline unchanged (docs/pixel-streaming.md). Plain WebSocket + JSON; the role
 * is decided by the path: `pixelStreaming.streamerPath` (default `/ps/streamer`) is a streamer,
 * every other path but socket.io's is a player, because Epic's frontend connects to the page's
 * own host and port with no path. An optional extra port takes streamers on every path, for
 * Unreal's default command line.
 *
 * Access at the upgrade, refused with an HTTP status before any WebSocket exists: streamers by
 * key (`?key=` or `Authorization: Bearer`), players by token (`?token=`, the cookie the `/ps/`
 * page sets, or `Authorization: Bearer`), browsers by Origin, every address by its open sockets
 * and an upgrade rate (Unreal retries every 2 s). A presented streamer key must be one of the
 * hub's even in open mode, as on socket.io. Refusals are one throttled warn line each
 * (access/RefusalLog.ts): Unreal retrying every 2 s, or a flood, cannot flood the log.
 *
 * Pixel Streaming peers are heartline peers: sessions, maxPlayers, the heartbeat, metrics, the
 * dashboard and the cluster are the same code as for heartline's own protocol.
 */
import type { IncomingMessage, Server as HttpServer } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { WebSocketServer, type WebSocket } from "ws";
import { HandshakeError, type IceServer } from "@heartline/shared";
import type { AccessPolicy } from "../access/AccessPolicy.js";
import { clientAddressOf, ownOriginOf, type TrustProxy } from "../access/forwarded.js";
import { RefusalLog } from "../access/RefusalLog.js";
import { turnCredentials } from "../access/turnCredentials.js";
import { TokenBucket } from "../signaling/TokenBucket.js";
import type { Peer } from "../sessions/Peer.js";
import type { PsConfig, PsContext, PsCrossNode, PsProbe } from "./context.js";
import { PsPlayer } from "./PsPlayer.js";
import { PsStreamer } from "./PsStreamer.js";
import type { Clock } from "@heartline/shared/timing";
import type { SessionRegistry } from "../sessions/SessionRegistry.js";
import type { SessionRelay } from "../sessions/SessionRelay.js";

/** The cookie the `/ps/` page sets from `?token=`, sent by the browser on the upgrade to `/`. */
export const PS_TOKEN_COOKIE = "heartline_ps_token";

/** How a Pixel Streaming streamer sends its key, for refusals. */
const KEY_WHERE = "?key= or Authorization: Bearer";

/** Why an upgrade was refused: the `code` of its log line (the HTTP status says it to the client). */
export const PsUpgradeRefusal = {
  /** Over pixelStreaming.upgradesPerSecond / upgradeBurst: 429. */
  TooManyUpgrades: "too-many-upgrades",
  /** The address holds limits.connectionsPerIp sockets: 429. */
  TooManyConnections: HandshakeError.TooManyConnections,
  /** A browser page on an origin the hub does not allow: 403. */
  OriginNotAllowed: HandshakeError.OriginNotAllowed,
  /** No valid streamer key or player token: 401. */
  Unauthorized: HandshakeError.Unauthorized,
} as const;
export type PsUpgradeRefusal = (typeof PsUpgradeRefusal)[keyof typeof PsUpgradeRefusal];

/** Idle upgrade buckets are forgotten at most this often (a bucket idle long enough is full: as new). */
const SWEEP_AT_MOST_EVERY_MS = 1000;

export interface PixelStreamingEndpointOptions {
  registry: SessionRegistry;
  relay: SessionRelay;
  access: AccessPolicy;
  clock: Clock;
  config: () => PsConfig & { trustProxy: TrustProxy };
  /** socket.io's path prefix: its upgrades are engine.io's. */
  socketIoPath: string;
  crossNode?: PsCrossNode | undefined;
  probe?: PsProbe | undefined;
  /** Throttles the refusal lines (shared with the hub's other refusals). */
  refusals?: RefusalLog | undefined;
  logger: Logger;
}

export class PixelStreamingEndpoint {
  readonly #wss: WebSocketServer;
  readonly #options: PixelStreamingEndpointOptions;
  readonly #ctx: PsContext;
  readonly #log: Logger;
  readonly #refusals: RefusalLog;
  readonly #streamers = new Map<Peer, PsStreamer>();
  /** Every streamer socket, identified or not. */
  readonly #streamerSockets = new Set<PsStreamer>();
  readonly #players = new Set<PsPlayer>();
  readonly #perAddress = new Map<string, number>();
  /** Upgrade rate per address, with when it was last used; idle full ones are swept. */
  readonly #upgradeBuckets = new Map<string, { bucket: TokenBucket; usedAt: number }>();
  #sweptAt = 0;

  constructor(options: PixelStreamingEndpointOptions) {
    this.#options = options;
    this.#log = options.logger;
    this.#refusals = options.refusals ?? new RefusalLog();
    const { registry, clock } = options;
    this.#wss = new WebSocketServer({
      noServer: true,
      // A real SDP is 2-20 KB; a larger frame closes the socket (1009) before it is parsed.
      maxPayload: options.config().limits.maxMessageBytes,
      perMessageDeflate: false,
    });
    this.#ctx = {
      registry,
      relay: options.relay,
      clock,
      config: options.config,
      crossNode: options.crossNode,
      probe: options.probe,
      peerConnectionOptions: (peer) => {
        const config = options.config();
        const turn = turnCredentials(config.turn, peer.id);
        const iceServers: IceServer[] = turn ? [...config.iceServers, turn] : config.iceServers;
        return { iceServers };
      },
      streamerIds: () => this.streamerIds(),
      streamerRtt: (streamer) => this.#streamers.get(streamer)?.rttMs,
    };
    registry.observer.on("streamersChanged", () => {
      this.#nudgeHeldPlayers();
    });
  }

  /** Open Pixel Streaming sockets by role (for metrics). */
  get sockets(): { streamer: number; player: number } {
    return { streamer: this.#streamerSockets.size, player: this.#players.size };
  }

  /** Identified Pixel Streaming streamers on this node, then on other nodes. */
  streamerIds(): string[] {
    const ids = this.#options.registry.listStreamers("pixelstreaming").map((s) => s.streamerId);
    for (const remote of this.#options.crossNode?.remoteStreamers() ?? []) {
      if (remote.protocol === "pixelstreaming" && !ids.includes(remote.streamerId))
        ids.push(remote.streamerId);
    }
    return ids;
  }

  /** Players held for a returning streamer whose streamer is back get their one `streamerList`. */
  #nudgeHeldPlayers(): void {
    let ids: string[] | undefined;
    for (const player of this.#players) {
      if (player.waitingFor === undefined) continue;
      ids ??= this.streamerIds();
      player.streamerBack(ids);
    }
  }

  /** Another node's streamers changed (multi-node). */
  remoteStreamersChanged(): void {
    this.#nudgeHeldPlayers();
  }

  /**
   * Takes the upgrades of `server` that are not socket.io's; `streamerOnly`: every path is a
   * streamer (the extra streamer port).
   */
  attach(server: HttpServer, streamerOnly = false): void {
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const path = pathOf(req);
      if (!streamerOnly && path.startsWith(this.#options.socketIoPath)) return;
      const config = this.#options.config();
      const role =
        streamerOnly || normalise(path) === normalise(config.pixelStreaming.streamerPath)
          ? "streamer"
          : "player";
      this.#upgrade(req, socket, head, role).catch((error: unknown) => {
        this.#log.error({ err: error }, "Pixel Streaming upgrade failed");
        refuseUpgrade(socket, 500, "the hub failed to accept this connection");
      });
    });
  }

  async #upgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    role: "streamer" | "player",
  ): Promise<void> {
    const config = this.#options.config();
    const address = clientAddress(req, config.trustProxy);
    const log = this.#log.child({ role, address });
    const refuse = (status: number, code: PsUpgradeRefusal, message: string, fields = {}): void => {
      this.#refusals.warn(log, { code, status, ...fields }, "Pixel Streaming upgrade refused");
      refuseUpgrade(socket, status, message);
    };
    if (!this.#takeUpgrade(address, config.pixelStreaming)) {
      refuse(
        429,
        PsUpgradeRefusal.TooManyUpgrades,
        "too many connection attempts from this address; slow down",
      );
      return;
    }
    if ((this.#perAddress.get(address) ?? 0) >= config.limits.connectionsPerIp) {
      refuse(429, PsUpgradeRefusal.TooManyConnections, "too many connections from this address");
      return;
    }
    const origin = req.headers.origin;
    if (!this.#options.access.originAllowed(origin, ownOrigin(req, config.trustProxy))) {
      refuse(403, PsUpgradeRefusal.OriginNotAllowed, "this page's origin may not connect to this hub", {
        origin: origin?.slice(0, 200),
      });
      return;
    }
    const url = new URL(req.url ?? "/", "http://hub");
    const bearer = bearerOf(req);
    if (role === "streamer") {
      const key = url.searchParams.get("key") ?? bearer;
      const match = this.#options.access.streamerKey(key ?? undefined, KEY_WHERE);
      if (!match.ok) {
        // 401 at the upgrade, as for a closed hub: Epic's convention, and Unreal retries in 2 s.
        refuse(401, PsUpgradeRefusal.Unauthorized, match.message);
        return;
      }
      this.#accept(req, socket, head, address, (ws) => {
        const streamer = new PsStreamer(
          ws,
          this.#ctx,
          {
            keyIds: match.streamerIds,
            evict: (id) => this.#evict(id),
            registered: (peer) => this.#streamers.set(peer, streamer),
            left: (peer) => this.#streamers.delete(peer),
          },
          log,
        );
        this.#streamerSockets.add(streamer);
        ws.on("close", () => {
          this.#streamerSockets.delete(streamer);
        });
        log.info("Pixel Streaming streamer connected");
      });
      return;
    }
    const token = url.searchParams.get("token") ?? cookieOf(req, PS_TOKEN_COOKIE) ?? bearer;
    const decision = await this.#options.access.check({ role: "player", ...(token ? { token } : {}) });
    if (!decision.ok) {
      refuse(401, PsUpgradeRefusal.Unauthorized, decision.message);
      return;
    }
    this.#accept(req, socket, head, address, (ws) => {
      const player = new PsPlayer(ws, this.#ctx, decision.onlyStreamerId, log);
      this.#players.add(player);
      ws.on("close", () => {
        this.#players.delete(player);
      });
      log.info({ peerId: player.peer.id }, "Pixel Streaming player connected");
    });
  }

  /** One upgrade from `address`, if its rate allows (pixelStreaming.upgradesPerSecond, upgradeBurst). */
  #takeUpgrade(address: string, limits: { upgradesPerSecond: number; upgradeBurst: number }): boolean {
    const { clock } = this.#options;
    const now = clock.now();
    // A bucket unused for this long has refilled to the brim: forgetting it changes nothing.
    const fullAfterMs = (limits.upgradeBurst / limits.upgradesPerSecond) * 1000;
    if (now - this.#sweptAt > Math.max(fullAfterMs, SWEEP_AT_MOST_EVERY_MS)) {
      this.#sweptAt = now;
      for (const [key, entry] of this.#upgradeBuckets) {
        if (now - entry.usedAt > fullAfterMs) this.#upgradeBuckets.delete(key);
      }
    }
    let entry = this.#upgradeBuckets.get(address);
    if (!entry) {
      entry = {
        bucket: new TokenBucket(limits.upgradesPerSecond, limits.upgradeBurst, () => clock.now()),
        usedAt: now,
      };
      this.#upgradeBuckets.set(address, entry);
    }
    entry.usedAt = now;
    return entry.bucket.take();
  }

  /** Addresses whose upgrade rate is tracked now (idle ones are forgotten). */
  get trackedAddresses(): number {
    return this.#upgradeBuckets.size;
  }

  #accept(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    address: string,
    onOpen: (ws: WebSocket) => void,
  ): void {
    if (socket.destroyed) return;
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      this.#perAddress.set(address, (this.#perAddress.get(address) ?? 0) + 1);
      ws.on("close", () => {
        const left = (this.#perAddress.get(address) ?? 1) - 1;
        if (left <= 0) this.#perAddress.delete(address);
        else this.#perAddress.set(address, left);
      });
      onOpen(ws);
    });
  }

  /** Evicts the Pixel Streaming holder of `streamerId` if it is gone or silent past staleAfterMs. */
  #evict(streamerId: string): boolean {
    const holder = this.#options.registry.streamerPeer(streamerId);
    if (!holder || holder.protocol !== "pixelstreaming" || holder.remote) return false;
    const streamer = this.#streamers.get(holder);
    const silentMs = streamer ? this.#options.clock.now() - streamer.lastHeardAt : Number.POSITIVE_INFINITY;
    if (streamer?.open === true && silentMs <= this.#options.registry.settings.staleAfterMs) return false;
    if (streamer) streamer.evict();
    else this.#options.registry.removePeer(holder, "streamer-left");
    return true;
  }

  /** Closes every Pixel Streaming socket (hub shutdown; sessions were ended first). */
  close(): void {
    for (const ws of this.#wss.clients) ws.close(1012, "hub-shutdown");
    this.#wss.close();
  }
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? "/";
  const query = url.indexOf("?");
  return query === -1 ? url : url.slice(0, query);
}

function normalise(path: string): string {
  return path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
}

function bearerOf(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  const match = header === undefined ? null : /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
}

function cookieOf(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return decodeURIComponent(value.join("="));
  }
  return undefined;
}

function clientAddress(req: IncomingMessage, trustProxy: TrustProxy): string {
  return clientAddressOf(req.headers, req.socket.remoteAddress ?? "unknown", trustProxy);
}

function ownOrigin(req: IncomingMessage, trustProxy: TrustProxy): string {
  const secure = "encrypted" in req.socket && req.socket.encrypted === true;
  return ownOriginOf(req.headers, req.socket.remoteAddress ?? "", secure, trustProxy);
}

/** Answers an upgrade with an HTTP status and closes it (no WebSocket is made). */
function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  if (socket.destroyed) return;
  const text =
    { 401: "Unauthorized", 403: "Forbidden", 429: "Too Many Requests", 500: "Internal Server Error" }[
      status
    ] ?? "Error";
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(message)}\r\n\r\n${message}`,
  );
}
