/**
 * The agent's connection to the hub: registers as a streamer in the socket.io handshake,
 * validates every inbound message, and stays connected forever (across hub restarts and
 * refusals) with jittered backoff.
 *
 * Every retry is scheduled here, not by socket.io's own reconnection: socket.io would not retry
 * after the hub's middleware refused the handshake nor after the hub disconnected us on purpose,
 * and its delays are hidden, while the operator (logs, status line) should know when the next
 * attempt is. A refusal only an operator can lift (a wrong key) is retried slowly.
 *
 * Every (re)connect presents the `resumeToken` of the last `config`, so after a dropped socket
 * the hub gives this agent back its identity and its sessions (docs/protocol.md, "Resume").
 *
 * A link that went silent (a partition, a hung hub) is dropped and reconnected as soon as the
 * hub has been silent past `hubSilenceLimitMs` (LinkWatch), not after socket.io's ping timeout.
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
  hubSilenceLimitMs,
} from "@heartline/shared";
import { Backoff, systemClock, type Clock, type TimerHandle } from "@heartline/shared/timing";
import { REFUSED_RETRY_MS, adviseOnConnectError, type ConnectErrorAdvice } from "./connectErrors.js";
import { LinkWatch } from "./LinkWatch.js";

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

/** The next attempt to reach the hub, while not connected. */
export interface HubRetry {
  /** Clock time of the next attempt. */
  at: number;
  /** Why the last attempt failed (a handshake code, `unreachable`, or `disconnected`). */
  code: ConnectErrorAdvice["code"] | "disconnected";
}

/** What the agent needs of its hub connection (a fake stands in for it in unit tests). */
export interface HubConnection {
  readonly connected: boolean;
  /** When the next attempt to connect is, if one is waiting (for the status line). */
  readonly retry?: HubRetry | undefined;
  start(): void;
  send(message: StreamerToHubMessage): boolean;
  close(): void;
}

export interface HubClientOptions {
  hub: string;
  streamerId: string;
  /** Sent as `auth.key`; never logged. */
  key?: string | undefined;
  logger: Logger;
  handlers: HubClientHandlers;
  clock?: Clock;
  /** Backoff bounds for reconnecting, in ms (defaults 500 and 10 000). */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** Delay before retrying a handshake only an operator can fix (default REFUSED_RETRY_MS, 30 s). */
  refusedRetryMs?: number;
}

/** `4200` -> `4.2 s`, for messages a person reads. */
function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
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
  private nextRetry: HubRetry | undefined;
  private closed = false;
  private resumeToken: string | undefined;
  private readonly watch: LinkWatch;

  constructor(options: HubClientOptions) {
    this.options = options;
    this.logger = options.logger;
    this.clock = options.clock ?? systemClock;
    const initialMs = options.retryInitialMs ?? 500;
    const maxMs = options.retryMaxMs ?? 10_000;
    // Each delay is half to all of the step: never a hot loop, never in lockstep.
    this.backoff = new Backoff({ initialMs, maxMs, jitter: [0.5, 1] });
    this.socket = io(options.hub, {
      // No HTTP long-polling: one WebSocket, so the hub sees one connection per agent.
      transports: ["websocket"],
      // A function, so every reconnect presents the latest resume token.
      auth: (callback) => {
        const auth: HandshakeAuth = {
          role: "streamer",
          streamerId: options.streamerId,
          ...(options.key !== undefined ? { key: options.key } : {}),
          ...(this.resumeToken !== undefined ? { resumeToken: this.resumeToken } : {}),
          // Answers the hub's liveness questions (Agent.handleMessage).
          features: ["probe", "mediaCheck"],
        };
        callback(auth);
      },
      autoConnect: false,
      // Retries are ours (scheduleRetry), so the delay is known and logged.
      reconnection: false,
    });
    this.watch = new LinkWatch({
      clock: this.clock,
      onSilent: (silentForMs) => {
        this.handleSilence(silentForMs);
      },
    });
    // The hub's engine.io ping: a sign of life even when no session runs.
    this.socket.io.on("ping", () => {
      this.watch.heard();
    });
    this.socket.on("connect", () => {
      this.watch.start();
      this.backoff.reset();
      this.nextRetry = undefined;
      this.options.handlers.onRegistered();
    });
    this.socket.on("connect_error", (error) => {
      this.handleConnectError(error);
    });
    this.socket.on("disconnect", (reason) => {
      this.handleDisconnect(reason);
    });
    this.socket.on("message", (raw: unknown) => {
      this.watch.heard();
      this.handleMessage(raw);
    });
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  get retry(): HubRetry | undefined {
    return this.nextRetry;
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
    this.watch.stop();
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
    if (result.data.type === "config") {
      this.resumeToken = result.data.resumeToken;
      this.watch.limit(hubSilenceLimitMs(result.data.heartbeat.intervalMs));
    }
    this.options.handlers.onMessage(result.data);
  }

  private handleConnectError(error: Error): void {
    if (this.closed) return;
    const advice = adviseOnConnectError(error, {
      hub: this.options.hub,
      streamerId: this.options.streamerId,
      hasKey: this.options.key !== undefined,
    });
    const retryInMs = this.scheduleRetry(
      advice.code,
      advice.needsOperator ? (this.options.refusedRetryMs ?? REFUSED_RETRY_MS) : undefined,
    );
    this.logger.warn(
      { hub: this.options.hub, code: advice.code, retryInMs },
      `${advice.hint} (retrying in ${seconds(retryInMs)})`,
    );
  }

  /** Nothing from the hub for too long: the link is dead whatever the socket says. Reconnect. */
  private handleSilence(silentForMs: number): void {
    if (this.closed || !this.socket.connected) return;
    this.logger.warn(
      { hub: this.options.hub, silentForMs },
      `nothing from the hub for ${seconds(silentForMs)} (a network partition, or a hung hub); dropping the connection to reconnect, sessions are kept for a resume`,
    );
    // Resumable, as any dropped link: the hub keeps this agent's sessions for its grace period.
    this.socket.io.engine.close();
  }

  private handleDisconnect(reason: Socket.DisconnectReason): void {
    this.watch.stop();
    // Whatever socket.io buffered while the link was dying belongs to the old connection.
    this.socket.sendBuffer = [];
    this.options.handlers.onDisconnected(reason, !DELIBERATE_DISCONNECTS.includes(reason));
    if (this.closed) return;
    const retryInMs = this.scheduleRetry("disconnected");
    this.logger.warn(
      { hub: this.options.hub, reason, retryInMs },
      reason === "io server disconnect"
        ? "the hub closed the connection; reconnecting"
        : "lost the hub connection; reconnecting",
    );
  }

  /** One pending attempt at a time; `delayMs` overrides the backoff (a refusal waits longer). */
  private scheduleRetry(code: HubRetry["code"], delayMs = this.backoff.next()): number {
    if (this.retryTimer !== undefined) this.clock.clearTimeout(this.retryTimer);
    this.nextRetry = { at: this.clock.now() + delayMs, code };
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = undefined;
      this.nextRetry = undefined;
      if (!this.closed && !this.socket.connected) this.socket.connect();
    }, delayMs);
    return delayMs;
  }
}
