/**
 * The dashboard's live feed: the `/admin` socket.io namespace. A socket must present
 * `auth: {token: admin.token}`; it gets a full snapshot on connect, after every change (coalesced)
 * and once a second (ages, RTT samples), and may end sessions or disconnect streamers.
 */
import type { IncomingHttpHeaders } from "node:http";
import { clientAddressOf, ownOriginOf, type TrustProxy } from "../access/forwarded.js";
import type { Namespace, Socket } from "socket.io";
import type { Logger } from "pino";
import {
  ADMIN_NAMESPACE,
  AdminError,
  type AdminActionResult,
  type AdminEmitEvents,
  type AdminListenEvents,
  type DashboardSnapshot,
} from "@heartline/shared/admin";
import type { Clock } from "@heartline/shared/timing";
import type { SessionRegistry } from "../sessions/SessionRegistry.js";
import { bufferedBytes } from "../signaling/SocketIoGateway.js";
import type { HubServer } from "../signaling/types.js";
import type { AdminAuth } from "./AdminAuth.js";
import type { RefusalLog } from "../access/RefusalLog.js";
import type { Operator } from "./Operator.js";
import type { SessionHistory } from "./SessionHistory.js";
import { sessionViews, streamerViews } from "./views.js";
import { forgetHandshakeSecrets } from "../signaling/forgetSecrets.js";

/** How often the dashboard gets a snapshot when nothing changed (ages and RTTs move). */
const TICK_MS = 1000;

// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- socket.io's "no inter-server events"
type NoEvents = {};
type AdminSocket = Socket<AdminListenEvents, AdminEmitEvents, NoEvents>;
type AdminNs = Namespace<AdminListenEvents, AdminEmitEvents, NoEvents>;

export interface AdminNamespaceOptions {
  registry: SessionRegistry;
  history: SessionHistory;
  operator: Operator;
  auth: AdminAuth;
  clock: Clock;
  /** The running `trustProxy`, so audit lines name the client, not the proxy. */
  trustProxy: () => TrustProxy;
  logger: Logger;
  /** Throttles refusal lines (shared with the hub's other refusals). */
  refusals: RefusalLog;
  /** The Origin rule peers get (AccessPolicy.originAllowed). */
  originAllowed: (origin: string | undefined, ownOrigin: string) => boolean;
  /** `limits.maxBufferedBytes`: a dashboard that stops reading is disconnected past it. */
  maxBufferedBytes: () => number;
}

interface Refusal extends Error {
  data: { code: string; message: string };
}

export class AdminNamespace {
  readonly #ns: AdminNs;
  readonly #options: AdminNamespaceOptions;
  readonly #log: Logger;
  #tick: ReturnType<typeof setInterval> | undefined;
  #queued = false;
  /** The token each dashboard was admitted with (a live reload may revoke it). */
  readonly #tokens = new WeakMap<object, unknown>();

  constructor(io: HubServer, options: AdminNamespaceOptions) {
    this.#options = options;
    this.#log = options.logger;
    // The hub's server is typed for peers; this namespace speaks the admin event maps.
    this.#ns = io.of(ADMIN_NAMESPACE);
    this.#ns.use((socket, next) => {
      const token = (socket.handshake.auth as { token?: unknown }).token;
      const address = this.#addressOf(socket);
      // The dashboard is a page of this hub: another site's page may not drive it with a
      // visitor's browser (same rule as for peers, DNS rebinding included).
      const { origin } = socket.handshake.headers;
      const trustProxy = options.trustProxy();
      const own = ownOriginOf(
        socket.handshake.headers,
        socket.handshake.address,
        socket.handshake.secure,
        trustProxy,
      );
      if (!options.originAllowed(origin, own)) {
        options.refusals.warn(
          this.#log,
          {
            audit: true,
            action: "dashboard-login",
            address,
            code: "origin-not-allowed",
            origin: origin?.slice(0, 200),
          },
          "dashboard connection refused",
        );
        const error = new Error("origin-not-allowed") as Refusal;
        error.data = {
          code: "origin-not-allowed",
          message: "this page's origin may not open the dashboard; open /dashboard on the hub itself",
        };
        next(error);
        return;
      }
      // Never rejects: a cluster-wide count Redis cannot give is this node's count (ClusterGuesses.ts).
      void options.auth.checkFrom(address, token).then((check) => {
        if (check.ok) {
          // Kept here for the re-check after a config reload, not on the socket (forgetSecrets.ts).
          this.#tokens.set(socket, token);
          forgetHandshakeSecrets(socket.handshake);
          next();
          return;
        }
        options.refusals.warn(
          this.#log,
          { audit: true, action: "dashboard-login", address, code: check.code },
          "dashboard connection refused",
        );
        const error = new Error(check.code) as Refusal;
        error.data = { code: check.code, message: check.message };
        next(error);
      });
    });
    this.#ns.on("connection", (socket) => {
      this.#onConnection(socket);
    });
    options.registry.observer.on("streamersChanged", () => {
      this.#changed();
    });
    options.history.onEnding(() => {
      this.#changed();
    });
  }

  /** Dashboards connected now. */
  /** The dashboard's address, as the trusted proxies saw it. */
  #addressOf(socket: { handshake: { headers: IncomingHttpHeaders; address: string } }): string {
    return clientAddressOf(socket.handshake.headers, socket.handshake.address, this.#options.trustProxy());
  }

  get connected(): number {
    return this.#ns.sockets.size;
  }

  /** What the dashboard shows now. */
  snapshot(): DashboardSnapshot {
    const { registry, history, clock } = this.#options;
    return {
      at: new Date().toISOString(),
      heartbeat: registry.settings,
      streamers: streamerViews(registry),
      sessions: sessionViews(registry, clock).map((view) => ({ ...view, rtt: history.rttOf(view.id) })),
      endings: history.endings(),
    };
  }

  /** Something changed: push a snapshot soon (bursts coalesce into one). */
  #changed(): void {
    if (this.#queued || this.#ns.sockets.size === 0) return;
    this.#queued = true;
    setImmediate(() => {
      this.#queued = false;
      this.#push();
    });
  }

  #push(): void {
    // A token changed by a live config reload applies to dashboards already connected.
    for (const socket of this.#ns.sockets.values()) {
      if (!this.#options.auth.check(this.#tokens.get(socket)).ok) {
        this.#log.warn({ address: this.#addressOf(socket) }, "dashboard disconnected: admin token changed");
        socket.disconnect(true);
        continue;
      }
      // A dashboard that stopped reading would make the hub buffer a snapshot a second (and one
      // per change) without bound: past the cap it is disconnected, like a stalled peer.
      const buffered = bufferedBytes(socket);
      if (buffered > this.#options.maxBufferedBytes()) {
        this.#log.warn(
          { address: this.#addressOf(socket), buffered },
          "disconnecting a stalled dashboard (outbound buffer over limits.maxBufferedBytes)",
        );
        socket.disconnect(true);
      }
    }
    if (this.#ns.sockets.size === 0) return;
    this.#ns.emit("snapshot", this.snapshot());
  }

  #onConnection(socket: AdminSocket): void {
    const actor = { address: this.#addressOf(socket), via: "dashboard" as const };
    this.#log.info({ audit: true, action: "dashboard-login", address: actor.address }, "dashboard connected");
    socket.emit("snapshot", this.snapshot());
    if (this.#tick === undefined) {
      this.#tick = setInterval(() => {
        this.#push();
      }, TICK_MS);
      this.#tick.unref();
    }

    const act = (
      request: unknown,
      key: "sessionId" | "streamerId",
      ack: unknown,
      action: (id: string) => AdminActionResult,
    ): void => {
      const id =
        typeof request === "object" && request !== null
          ? (request as Record<string, unknown>)[key]
          : undefined;
      const result: AdminActionResult =
        typeof id === "string" && id.length > 0 && id.length <= 128
          ? action(id)
          : { ok: false, code: AdminError.InvalidRequest, message: `expected {${key}: string}` };
      if (typeof ack === "function") (ack as (r: AdminActionResult) => void)(result);
      this.#changed();
    };
    socket.on("endSession", (request, ack) => {
      act(request, "sessionId", ack, (id) => this.#options.operator.endSession(id, actor));
    });
    socket.on("disconnectStreamer", (request, ack) => {
      act(request, "streamerId", ack, (id) => this.#options.operator.disconnectStreamer(id, actor));
    });
    socket.on("disconnect", () => {
      this.#log.info({ address: actor.address }, "dashboard disconnected");
      if (this.#ns.sockets.size === 0 && this.#tick !== undefined) {
        clearInterval(this.#tick);
        this.#tick = undefined;
      }
    });
  }

  close(): void {
    if (this.#tick !== undefined) clearInterval(this.#tick);
    this.#tick = undefined;
    this.#ns.disconnectSockets(true);
  }
}
