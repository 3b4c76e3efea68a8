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
  /** Ends every session (`hub-shutdown`), disconnects every peer and stops listening. */
  close(): Promise<void>;
}

export function createHub(config: HubConfig, options: { logger: Logger; clock?: Clock }): Hub {
  const { logger } = options;
  const heartbeat = heartbeatSettings(config);
  const app = createHttpApp({
    webClientDir: config.webClientDir ?? DEFAULT_WEB_CLIENT_DIR,
    logger: logger.child({ component: "http" }),
  });
  const httpServer = createServer(app);
  const io: HubServer = new Server(httpServer, {
    transports: ["websocket"],
    serveClient: false,
    maxHttpBufferSize: MAX_MESSAGE_BYTES,
    perMessageDeflate: false,
  });
  const registry = new SessionRegistry({
    timeoutMs: heartbeat.timeoutMs,
    intervalMs: heartbeat.intervalMs,
    clock: options.clock ?? systemClock,
    logger: logger.child({ component: "sessions" }),
  });
  const signaling = new SignalingServer(
    io,
    registry,
    { heartbeat, iceServers: config.iceServers, logPingPong: config.heartbeat.logPingPong },
    logger.child({ component: "signaling" }),
  );
  registry.observer.on("streamersChanged", () => {
    signaling.streamersChanged();
  });

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
