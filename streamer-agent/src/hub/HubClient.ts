/**
 * The agent's connection to the hub: registers as a streamer in the socket.io handshake,
 * validates every inbound message, and stays connected forever (across hub restarts and
 * refusals) with jittered backoff.
 *
 * socket.io reconnects by itself after a lost transport, but not after the hub's middleware
 * refused the handshake (`connect_error` with `socket.active === false`) nor after the hub
 * disconnected us on purpose; those two cases are retried here.
 *
 * Every (re)connect presents the `resumeToken` of the last `config`, so after a dropped socket
 * the hub gives this agent back its identity and its sessions (docs/protocol.md, "Resume").
 */
import { io, type Socket } from "socket.io-client";
import type { Logger } from "pino";
import {
  HubToStreamerMessageSchema,
  describeIssue,
  type HandshakeAuth,
  type HubToStreamerMessage,
  type StreamerEmitEvents,
  type StreamerListenEvents,
  type StreamerToHubMessage,
} from "@heartline/shared";
import { Backoff } from "../timing/Backoff.js";
import { systemClock, type Clock, type TimerHandle } from "../timing/clock.js";
import { adviseOnConnectError } from "./connectErrors.js";

export interface HubClientHandlers {
  /** The hub accepted the handshake: this agent is registered under its id. */
  onRegistered: () => void;
  /** A validated message from the hub. */
  onMessage: (message: HubToStreamerMessage) => void;
  /**
   * The connection is gone. `resumable`: it dropped (network, hub crash), so the hub keeps this
   * agent's sessions for `resumeGraceMs`; false when either side ended it on purpose.
   */
  onDisconnected: (reason: string, resumable: boolean) => void;
}

/** What the agent needs of its hub connection (a fake stands in for it in unit tests). */
export interface HubConnection {
  readonly connected: boolean;
  start(): void;
  send(message: StreamerToHubMessage): boolean;
  close(): void;
}

export interface HubClientOptions {
  hub: string;
  streamerId: string;
  logger: Logger;
  handlers: HubClientHandlers;
  clock?: Clock;
  /** Backoff bounds for reconnecting, in ms (defaults 500 and 10 000). */
  retryInitialMs?: number;
  retryMaxMs?: number;
}

/** socket.io's disconnect reasons that mean someone ended the connection on purpose. */
const DELIBERATE_DISCONNECTS: readonly string[] = ["io client disconnect", "io server disconnect"];

export class HubClient implements HubConnection {
  private readonly socket: Socket<StreamerListenEvents, StreamerEmitEvents>;
  private readonly options: HubClientOptions;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly backoff: Backoff;
  private retryTimer: TimerHandle | undefined;
  private closed = false;
  private resumeToken: string | undefined;

  constructor(options: HubClientOptions) {
    this.options = options;
    this.logger = options.logger;
    this.clock = options.clock ?? systemClock;
    const initialMs = options.retryInitialMs ?? 500;
    const maxMs = options.retryMaxMs ?? 10_000;
    this.backoff = new Backoff({ initialMs, maxMs });
    this.socket = io(options.hub, {
      // No HTTP long-polling: one WebSocket, so the hub sees one connection per agent.
      transports: ["websocket"],
      // A function, so every reconnect presents the latest resume token.
      auth: (callback) => {
        const auth: HandshakeAuth = {
          role: "streamer",
          streamerId: options.streamerId,
          ...(this.resumeToken !== undefined ? { resumeToken: this.resumeToken } : {}),
        };
        callback(auth);
      },
      autoConnect: false,
      reconnection: true,
      reconnectionAttempts: Infinity,
      reconnectionDelay: initialMs,
      reconnectionDelayMax: maxMs,
      randomizationFactor: 0.5,
    });
    this.socket.on("connect", () => {
      this.backoff.reset();
      this.options.handlers.onRegistered();
    });
    this.socket.on("connect_error", (error) => {
      this.handleConnectError(error);
    });
    this.socket.on("disconnect", (reason) => {
      this.handleDisconnect(reason);
    });
    this.socket.on("message", (raw: unknown) => {
      this.handleMessage(raw);
    });
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  start(): void {
    this.logger.info({ hub: this.options.hub, streamerId: this.options.streamerId }, "connecting to hub");
    this.socket.connect();
  }

  /**
   * Sends a message if connected. Returns false and drops it otherwise: socket.io would buffer
   * it and deliver a stale offer or ping for a session the hub has already ended. Pings go
   * volatile: socket.io also buffers while `connected` but its own heartbeat has expired, and a
   * ping delivered late would be a false sign of life.
   */
  send(message: StreamerToHubMessage): boolean {
    if (!this.socket.connected) {
      this.logger.debug({ type: message.type }, "not connected to the hub; message dropped");
      return false;
    }
    if (message.type === "ping") this.socket.volatile.emit("message", message);
    else this.socket.emit("message", message);
    return true;
  }

  /** Disconnects for good. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.retryTimer !== undefined) this.clock.clearTimeout(this.retryTimer);
    this.socket.disconnect();
  }

  private handleMessage(raw: unknown): void {
    const result = HubToStreamerMessageSchema.safeParse(raw);
    if (!result.success) {
      const type = typeof raw === "object" && raw !== null ? (raw as { type?: unknown }).type : undefined;
      this.logger.warn(
        { type: typeof type === "string" ? type : undefined, problem: describeIssue(result.error) },
        "invalid message from the hub ignored; is the hub a newer protocol version?",
      );
      return;
    }
    if (result.data.type === "config") this.resumeToken = result.data.resumeToken;
    this.options.handlers.onMessage(result.data);
  }

  private handleConnectError(error: Error): void {
    if (this.closed) return;
    const advice = adviseOnConnectError(error, this.options.hub, this.options.streamerId);
    if (this.socket.active) {
      // A transport failure: socket.io retries with its own backoff.
      this.logger.warn({ code: advice.code }, advice.hint);
      return;
    }
    // Refused by the hub's middleware: socket.io gives up, so we retry ourselves.
    const retryInMs = this.scheduleRetry();
    this.logger.warn({ code: advice.code, retryInMs }, advice.hint);
  }

  private handleDisconnect(reason: Socket.DisconnectReason): void {
    // Whatever socket.io buffered while the link was dying belongs to the old connection.
    this.socket.sendBuffer = [];
    this.options.handlers.onDisconnected(reason, !DELIBERATE_DISCONNECTS.includes(reason));
    if (this.closed) return;
    if (this.socket.active) {
      this.logger.warn({ reason }, "lost the hub connection; reconnecting");
    } else {
      // The hub disconnected us on purpose (e.g. it is shutting down); socket.io will not retry.
      const retryInMs = this.scheduleRetry();
      this.logger.warn({ reason, retryInMs }, "the hub closed the connection; reconnecting");
    }
  }

  private scheduleRetry(): number {
    if (this.retryTimer !== undefined) this.clock.clearTimeout(this.retryTimer);
    const delayMs = this.backoff.next();
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.closed && !this.socket.connected) this.socket.connect();
    }, delayMs);
    return delayMs;
  }
}
