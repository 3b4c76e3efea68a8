/**
 * Builds a hub from a validated config: the HTTP app, the socket.io server, the session
 * registry and the signaling layer, wired together. `main.ts` runs one; tests start many.
 */
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server as HttpServer } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { Server } from "socket.io";
import type { Logger } from "pino";
import type { ErrorCode, HandshakeError } from "@heartline/shared";
import { heartbeatSettings, type HubConfig } from "@heartline/shared/config";
import { AccessPolicy } from "./access/AccessPolicy.js";
import { behindProxy } from "./access/forwarded.js";
import { RefusalLog } from "./access/RefusalLog.js";
import { AdminAuth, GUESS_BURST, GUESS_REFILL_SEC } from "./admin/AdminAuth.js";
import { ClusterGuesses } from "./admin/ClusterGuesses.js";
import { ClusterNode } from "./cluster/ClusterNode.js";
import { RedisLink } from "./cluster/RedisLink.js";
import { RemoteSessions } from "./cluster/RemoteSessions.js";
import { AdminNamespace } from "./admin/AdminNamespace.js";
import { Operator } from "./admin/Operator.js";
import { SessionHistory } from "./admin/SessionHistory.js";
import { unrefClock as systemClock, type Clock } from "@heartline/shared/timing";
import { createApiRouter } from "./http/api.js";
import { createHttpApp } from "./http/app.js";
import { redactUrl } from "./http/redact.js";
import { HubMetrics } from "./metrics/HubMetrics.js";
import { SessionRegistry, type DetectorOptions } from "./sessions/SessionRegistry.js";
import { pixelStreamingPage } from "./pixelstreaming/page.js";
import { PixelStreamingEndpoint } from "./pixelstreaming/PixelStreamingEndpoint.js";
import { SessionRelay } from "./sessions/SessionRelay.js";
import { keepaliveFor } from "./signaling/keepalive.js";
import { MessageRouter } from "./signaling/MessageRouter.js";
import { SocketIoGateway } from "./signaling/SocketIoGateway.js";
import type { HubServer } from "./signaling/types.js";

/** A built page: the copy an installed hub ships beside its compiled code (dist/public/…), else the checkout's. */
function pageDir(packaged: string, checkout: string): string {
  const inPackage = fileURLToPath(new URL(packaged, import.meta.url));
  return existsSync(inPackage) ? inPackage : fileURLToPath(new URL(checkout, import.meta.url));
}
export const DEFAULT_WEB_CLIENT_DIR = pageDir("./public/web-client", "../../web-client/dist");
export const DEFAULT_PS_PAGE_DIR = pageDir("./public/ps-player", "../../ps-player/dist");

export interface Hub {
  readonly httpServer: HttpServer;
  readonly io: HubServer;
  readonly registry: SessionRegistry;
  /** Who may connect; also issues player tokens. */
  readonly access: AccessPolicy;
  readonly metrics: HubMetrics;
  /** Multi-node mode (`cluster.redisUrl` set): this hub as a node of the cluster. */
  readonly cluster: ClusterNode | undefined;
  /** Epic's Pixel Streaming signalling (`pixelStreaming.enabled`). */
  readonly pixelStreaming: PixelStreamingEndpoint | undefined;
  /** Starts listening on the configured host and port; resolves to the hub's base URL. */
  listen(): Promise<string>;
  /**
   * Applies a new config while running: heartbeat timings (every session's deadlines at once),
   * transport keepalive, ICE servers and log level; every connected peer gets a new `config`.
   */
  reconfigure(config: HubConfig): void;
  /** Ends every session (`hub-shutdown`), disconnects every peer and stops listening. */
  close(): Promise<void>;
}

export function createHub(config: HubConfig, options: { logger: Logger; clock?: Clock }): Hub {
  const { logger } = options;
  const heartbeat = heartbeatSettings(config);
  const keepalive = keepaliveFor(heartbeat);
  const clock = options.clock ?? systemClock;
  const registry = new SessionRegistry({
    heartbeat,
    enforce: config.heartbeat.enforce,
    detector: detectorOptions(config),
    clock,
    logger: logger.child({ component: "sessions" }),
  });
  const access = new AccessPolicy(config);
  for (const warning of access.warnings()) logger.warn({ component: "access" }, warning);
  // The operator side: metrics, the dashboard's history, the admin credential and actions.
  let current = config;
  let closing = false;
  const history = new SessionHistory({ registry, clock });
  // Every refusal's warn line goes through one throttle, so a flood of refusals cannot flood the log.
  const refusals = new RefusalLog();
  // Multi-node mode: Redis links the hubs. Connecting never blocks or fails the start: the hub
  // serves same-node sessions and is `degraded` until Redis answers.
  const redisUrl = config.cluster.redisUrl;
  const link =
    redisUrl === undefined ? undefined : new RedisLink(redisUrl, logger.child({ component: "redis" }));
  // In a cluster, admin-token guesses spread over the nodes spend one budget per address.
  const adminAuth = new AdminAuth(() => current.admin.token, {
    shared:
      link &&
      new ClusterGuesses({
        redis: link.commands,
        up: () => link.up,
        keyPrefix: config.cluster.keyPrefix,
        timeoutMs: () => current.cluster.requestTimeoutMs,
        burst: GUESS_BURST,
        refillMs: GUESS_REFILL_SEC * 1000,
        logger: logger.child({ component: "admin" }),
      }),
  });
  const pixelStreamingOn = config.pixelStreaming.enabled;
  const metrics = new HubMetrics({
    registry,
    adminSockets: () => admin.connected,
    // Read at scrape time, once everything below exists.
    internals: () => ({
      "gateway.addresses": gateway.addressesCounted,
      ...cluster?.internals(),
      ...(remote && { "cluster.transports": remote.transportCount }),
    }),
    ...(pixelStreamingOn && {
      pixelStreaming: { sockets: () => pixelStreaming?.sockets ?? { streamer: 0, player: 0 } },
    }),
    ...(link && {
      cluster: {
        linkUp: () => link.up,
        otherNodes: () => cluster?.nodeCount ?? 0,
        droppedPublishes: () => link.droppedPublishes,
        rejected: () => cluster?.rejected ?? new Map(),
      },
    }),
  });
  const operator = new Operator({
    registry,
    logger: logger.child({ component: "admin" }),
  });
  const app = createHttpApp({
    webClientDir: config.webClientDir ?? DEFAULT_WEB_CLIENT_DIR,
    logger: logger.child({ component: "http" }),
    pixelStreamingPage: !pixelStreamingOn
      ? undefined
      : pixelStreamingPage({
          pageDir: config.pixelStreaming.pageDir ?? DEFAULT_PS_PAGE_DIR,
          secure: config.tls.cert !== undefined || behindProxy(config.trustProxy),
          tokenTtlSec: () => current.auth.playerTokenTtlSec,
          logger: logger.child({ component: "pixelstreaming" }),
        }),
    api: createApiRouter({
      registry,
      operator,
      auth: adminAuth,
      access,
      clock,
      config: () => current,
      cluster: () => cluster,
      logger: logger.child({ component: "admin" }),
      refusals,
    }),
    secure: config.tls.cert !== undefined || behindProxy(config.trustProxy),
    refusals,
    trustProxy: () => current.trustProxy,
    metrics,
    readiness: [
      { name: "listening", check: () => httpServer.listening || "not listening yet" },
      { name: "shutdown", check: () => !closing || "shutting down" },
      ...(link
        ? [
            {
              name: "redis",
              degrades: true,
              check: () =>
                link.up ||
                `Redis unreachable for ${Math.round((Date.now() - (link.downSince ?? Date.now())) / 1000)} s: same-node sessions continue; streamers on other nodes are unavailable; reconnecting`,
            },
          ]
        : []),
    ],
  });
  // TLS when a certificate is configured (HTTPS and WSS on the same port); plain HTTP otherwise,
  // e.g. behind a reverse proxy that terminates TLS (docs/security.md).
  const serverOptions = { keepAlive: true, keepAliveInitialDelay: keepalive.tcpKeepAliveInitialDelayMs };
  const { cert, key } = config.tls;
  const httpServer: HttpServer =
    cert !== undefined && key !== undefined
      ? createTlsServer({ ...serverOptions, cert: readFileSync(cert), key: readFileSync(key) }, app)
      : createServer(serverOptions, app);
  const io: HubServer = new Server(httpServer, {
    transports: ["websocket"],
    serveClient: false,
    // A real SDP is 2-20 KB; larger frames close the socket before they are parsed.
    maxHttpBufferSize: config.limits.maxMessageBytes,
    perMessageDeflate: false,
    pingInterval: keepalive.pingIntervalMs,
    pingTimeout: keepalive.pingTimeoutMs,
    // A transport that never sends socket.io's CONNECT holds a connection slot until this.
    connectTimeout: 10_000,
    // engine.io ends every other path's upgrade after 1 s; the Pixel Streaming endpoint takes
    // those (its access checks are asynchronous) and refuses what it does not want itself.
    destroyUpgrade: !pixelStreamingOn,
  });
  const cluster =
    link &&
    new ClusterNode({
      link,
      secret: config.cluster.secret,
      nodeId: config.cluster.nodeId,
      keyPrefix: config.cluster.keyPrefix,
      requestTimeoutMs: config.cluster.requestTimeoutMs,
      heartbeat,
      clock,
      logger: logger.child({ component: "cluster" }),
    });
  const relay = new SessionRelay({
    registry,
    clock,
    ...(cluster && { linkUp: () => cluster.linkUp }),
    probe: {
      heartbeatRtt: (session, rttMs) => {
        metrics.heartbeatRtt(rttMs);
        history.rtt(session, rttMs);
      },
    },
  });
  const remote =
    cluster &&
    new RemoteSessions({
      cluster,
      registry,
      relay,
      maxPlayers: () => current.maxPlayers,
      subscriptionsPerPlayer: () => current.limits.subscriptionsPerPlayer,
      remoteStreamersChanged: () => {
        gateway.streamersChanged();
        pixelStreaming?.remoteStreamersChanged();
      },
      logger: logger.child({ component: "cluster" }),
    });
  const probe = {
    handled: (seconds: number) => {
      metrics.relayed(seconds);
    },
    rejected: (code: ErrorCode) => {
      metrics.rejected(code);
    },
    handshakeRefused: (code: HandshakeError) => {
      metrics.handshakeRefused(code);
    },
    stalledReader: () => {
      metrics.stalledReader("heartline");
    },
  };
  const router = new MessageRouter({ registry, relay, config, crossNode: remote, probe, refusals });
  const gateway = new SocketIoGateway({
    io,
    registry,
    router,
    config,
    access,
    crossNode: remote,
    probe,
    logger: logger.child({ component: "signaling" }),
  });
  const pixelStreaming = pixelStreamingOn
    ? new PixelStreamingEndpoint({
        registry,
        relay,
        access,
        clock,
        config: () => current,
        socketIoPath: "/socket.io/",
        crossNode: remote,
        refusals,
        probe: {
          heartbeatRtt: (session, rttMs) => {
            metrics.heartbeatRtt(rttMs);
            history.rtt(session, rttMs);
          },
          dropped: (role, why) => {
            metrics.psDropped(role, why);
          },
          relayed: (role) => {
            metrics.psRelayed(role);
          },
          stalledReader: () => {
            metrics.stalledReader("pixelstreaming");
          },
        },
        logger: logger.child({ component: "pixelstreaming" }),
      })
    : undefined;
  pixelStreaming?.attach(httpServer);
  // Unreal's default command line points at port 8888 with no path: every path there is a streamer.
  const streamerPort = pixelStreamingOn ? config.pixelStreaming.streamerPort : undefined;
  const streamerServer =
    pixelStreaming && streamerPort !== undefined
      ? createServer((_req, res) => {
          res
            .writeHead(426, { "Content-Type": "text/plain" })
            .end("Pixel Streaming streamers only: connect with a WebSocket\n");
        })
      : undefined;
  if (pixelStreaming && streamerServer) pixelStreaming.attach(streamerServer, true);
  if (cluster && remote) {
    cluster.start(remote);
    logger.info(
      { nodeId: cluster.nodeId, redis: redactUrl(redisUrl ?? "") },
      "multi-node mode: joining the cluster through redis",
    );
  }
  const admin = new AdminNamespace(io, {
    registry,
    history,
    operator,
    auth: adminAuth,
    clock,
    trustProxy: () => current.trustProxy,
    logger: logger.child({ component: "admin" }),
    refusals,
    originAllowed: (origin, own) => access.originAllowed(origin, own),
    maxBufferedBytes: () => current.limits.maxBufferedBytes,
  });

  return {
    httpServer,
    io,
    registry,
    access,
    metrics,
    cluster,
    pixelStreaming,
    listen: async () => {
      // Give Redis a moment first, so the first streamers are claimed cluster-wide; a hub whose
      // Redis is down still starts (degraded) and joins when Redis answers.
      if (link && !(await link.waitUp(config.cluster.requestTimeoutMs))) {
        logger.warn(
          { waitedMs: config.cluster.requestTimeoutMs },
          "redis is not reachable yet: starting degraded (same-node sessions only) and retrying in the background",
        );
      }
      if (streamerServer && streamerPort !== undefined) {
        await new Promise<void>((resolve, reject) => {
          streamerServer.once("error", reject);
          streamerServer.listen(streamerPort, config.host, () => {
            streamerServer.off("error", reject);
            logger.info(
              { port: (streamerServer.address() as AddressInfo).port },
              "Pixel Streaming streamer port listening (every path is a streamer)",
            );
            resolve();
          });
        });
      }
      return new Promise<string>((resolve, reject) => {
        httpServer.once("error", reject);
        httpServer.listen(config.port, config.host, () => {
          httpServer.off("error", reject);
          const { port } = httpServer.address() as AddressInfo;
          const host = config.host.includes(":") ? `[${config.host}]` : config.host;
          const scheme = config.tls.cert !== undefined ? "https" : "http";
          resolve(`${scheme}://${host}:${port}`);
        });
      });
    },
    reconfigure: (next) => {
      current = next;
      metrics.configReloaded("applied");
      const settings = heartbeatSettings(next);
      const nextKeepalive = keepaliveFor(settings);
      registry.reconfigure(settings, next.heartbeat.enforce, detectorOptions(next));
      // engine.io reads these when it schedules each socket's next ping.
      io.engine.opts.pingInterval = nextKeepalive.pingIntervalMs;
      io.engine.opts.pingTimeout = nextKeepalive.pingTimeoutMs;
      logger.level = next.log.level;
      access.update(next);
      router.update(next);
      gateway.update(next);
      cluster?.reconfigure(settings, next.cluster.requestTimeoutMs);
    },
    close: async () => {
      closing = true;
      admin.close();
      registry.closeAll("hub-shutdown");
      pixelStreaming?.close();
      streamerServer?.close();
      await cluster?.close();
      await io.close();
      await link?.close();
      refusals.flush();
      if (httpServer.listening) {
        await new Promise<void>((resolve) => {
          httpServer.close(() => {
            resolve();
          });
        });
      }
    },
  };
}

/** The heartbeat detector the config asks for. */
function detectorOptions(config: HubConfig): DetectorOptions {
  return { kind: config.heartbeat.detector, pauseToleranceMs: config.heartbeat.pauseToleranceMs };
}
