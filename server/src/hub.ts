/**
 * Builds a hub from a validated config: the HTTP app, the socket.io server, the session
 * registry and the signaling layer, wired together. `main.ts` runs one; tests start many.
 */
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { Server } from "socket.io";
import type { Logger } from "pino";
import { heartbeatSettings, type HubConfig } from "@heartline/shared/config";
import { systemClock, type Clock } from "./heartbeat/clock.js";
import { createHttpApp } from "./http/app.js";
import { SessionRegistry } from "./sessions/SessionRegistry.js";
import { keepaliveFor } from "./signaling/keepalive.js";
import { SignalingServer } from "./signaling/SignalingServer.js";
import type { HubServer } from "./signaling/types.js";

/** The largest message a peer may send; a real SDP is 2-20 KB. */
const MAX_MESSAGE_BYTES = 64 * 1024;

export const DEFAULT_WEB_CLIENT_DIR = fileURLToPath(new URL("../../web-client/dist", import.meta.url));

export interface Hub {
  readonly httpServer: HttpServer;
  readonly io: HubServer;
  readonly registry: SessionRegistry;
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
  const app = createHttpApp({
    webClientDir: config.webClientDir ?? DEFAULT_WEB_CLIENT_DIR,
    logger: logger.child({ component: "http" }),
  });
  const httpServer = createServer(
    { keepAlive: true, keepAliveInitialDelay: keepalive.tcpKeepAliveInitialDelayMs },
    app,
  );
  const io: HubServer = new Server(httpServer, {
    transports: ["websocket"],
    serveClient: false,
    maxHttpBufferSize: MAX_MESSAGE_BYTES,
    perMessageDeflate: false,
    pingInterval: keepalive.pingIntervalMs,
    pingTimeout: keepalive.pingTimeoutMs,
  });
  const registry = new SessionRegistry({
    heartbeat,
    enforce: config.heartbeat.enforce,
    clock: options.clock ?? systemClock,
    logger: logger.child({ component: "sessions" }),
  });
  const signaling = new SignalingServer(
    io,
    registry,
    { iceServers: config.iceServers, logPingPong: config.heartbeat.logPingPong },
    logger.child({ component: "signaling" }),
  );

  return {
    httpServer,
    io,
    registry,
    listen: () =>
      new Promise((resolve, reject) => {
        httpServer.once("error", reject);
        httpServer.listen(config.port, config.host, () => {
          httpServer.off("error", reject);
          const { port } = httpServer.address() as AddressInfo;
          const host = config.host.includes(":") ? `[${config.host}]` : config.host;
          resolve(`http://${host}:${port}`);
        });
      }),
    reconfigure: (next) => {
      const settings = heartbeatSettings(next);
      const nextKeepalive = keepaliveFor(settings);
      registry.reconfigure(settings, next.heartbeat.enforce);
      // engine.io reads these when it schedules each socket's next ping.
      io.engine.opts.pingInterval = nextKeepalive.pingIntervalMs;
      io.engine.opts.pingTimeout = nextKeepalive.pingTimeoutMs;
      logger.level = next.log.level;
      signaling.update({ iceServers: next.iceServers, logPingPong: next.heartbeat.logPingPong });
    },
    close: async () => {
      registry.closeAll("hub-shutdown");
      await io.close();
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
