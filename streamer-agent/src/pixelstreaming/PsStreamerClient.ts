/**
 * The agent's Pixel Streaming signalling connection, behaving as Unreal's PS2 plugin does: a plain
 * WebSocket to the server's streamer endpoint; `identify` (or a `config` first) is answered with
 * `endpointId`; a JSON `ping{time: unix seconds}` goes out every `pingIntervalMs`; when the socket
 * closes or cannot be opened, it reconnects after `reconnectMs`, forever, and identifies again.
 *
 * It knows nothing of peer connections: every validated message goes to `onMessage`, and the
 * owner (PsStreamer) decides what a player's arrival or departure means.
 *
 * Lifecycle: connecting -> open -> identified -> (closed -> connecting …); `close()` ends it for
 * good and is idempotent.
 */
import WebSocket from "ws";
import type { Logger } from "pino";
import { Backoff, systemClock, type Clock, type TimerHandle } from "@heartline/shared/timing";
import { parsePsFrame, psOut, type PsInbound, type PsOutbound } from "./messages.js";

export type PsLinkState = "connecting" | "open" | "identified" | "closed";

export interface PsStreamerClientHandlers {
  /** A validated message other than `identify`, `endpointIdConfirm`, `ping` and `pong` (handled here). */
  onMessage: (
    message: Exclude<PsInbound, { type: "identify" | "endpointIdConfirm" | "ping" | "pong" }>,
  ) => void;
  /** The server confirmed the id (it may have changed it to make it unique). */
  onIdentified: (committedId: string) => void;
  /** The socket is gone (every peer of it is dead to the server); a reconnect is scheduled. */
  onDisconnected: (detail: { code: number; reason: string }) => void;
}

export interface PsStreamerClientOptions {
  /** ws(s):// URL of the streamer endpoint; its query (e.g. `?key=`) is kept. */
  url: string;
  streamerId: string;
  /** Sent as `Authorization: Bearer <key>`; never logged. */
  key?: string | undefined;
  /** JSON ping period, in ms; 0 sends none. */
  pingIntervalMs: number;
  /** Delay before reconnecting, in ms. */
  reconnectMs: number;
  handlers: PsStreamerClientHandlers;
  logger: Logger;
  logPingPong?: boolean;
  clock?: Clock;
  /** Unix time in seconds, for `ping.time` (default: the wall clock). */
  unixSeconds?: () => number;
}

/** The next attempt to connect, while not connected. */
export interface PsRetry {
  at: number;
  code: "unreachable" | "refused" | "disconnected";
}

/** A URL as safe to log: no `key=`/`token=` values, no user info. */
export function redactUrl(url: string): string {
  const parsed = new URL(url);
  parsed.username = "";
  parsed.password = "";
  for (const name of [...parsed.searchParams.keys()]) {
    if (/key|token|secret|password/i.test(name)) parsed.searchParams.set(name, "<hidden>");
  }
  return parsed.toString();
}

export class PsStreamerClient {
  private readonly options: PsStreamerClientOptions;
  private readonly logger: Logger;
  private readonly clock: Clock;
  /** Factor 1, no jitter: Unreal's fixed reconnect interval. */
  private readonly backoff: Backoff;
  private readonly unixSeconds: () => number;
  private socket: WebSocket | undefined;
  private stateValue: PsLinkState = "closed";
  private retryTimer: TimerHandle | undefined;
  private pingTimer: TimerHandle | undefined;
  private nextRetry: PsRetry | undefined;
  /** Set from the handshake's HTTP status, so the close that follows says why. */
  private refusedStatus: number | undefined;
  private pingSentAt: number | undefined;
  private lastRttMs: number | undefined;
  private committedId: string | undefined;
  private stopped = false;

  constructor(options: PsStreamerClientOptions) {
    this.options = options;
    this.logger = options.logger;
    this.clock = options.clock ?? systemClock;
    this.backoff = new Backoff({
      initialMs: options.reconnectMs,
      maxMs: options.reconnectMs,
      factor: 1,
      jitter: [1, 1],
    });
    this.unixSeconds = options.unixSeconds ?? (() => Math.floor(Date.now() / 1000));
  }

  get state(): PsLinkState {
    return this.stateValue;
  }

  get retry(): PsRetry | undefined {
    return this.nextRetry;
  }

  /** The id the server confirmed, once identified. */
  get streamerId(): string | undefined {
    return this.committedId;
  }

  /** Round trip of the last answered JSON ping (the server's `pong`). */
  get rttMs(): number | undefined {
    return this.lastRttMs;
  }

  start(): void {
    this.logger.info(
      { url: redactUrl(this.options.url), streamerId: this.options.streamerId },
      "connecting to the Pixel Streaming signalling server",
    );
    this.connect();
  }

  /** Sends a message if the socket is open; drops it otherwise (it belongs to a dead connection). */
  send(message: PsOutbound): boolean {
    const socket = this.socket;
    if (socket?.readyState !== WebSocket.OPEN) {
      this.logger.debug({ type: message.type }, "signalling socket not open; message dropped");
      return false;
    }
    socket.send(JSON.stringify(message));
    return true;
  }

  /** Closes for good. Idempotent. */
  close(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.retryTimer !== undefined) this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.nextRetry = undefined;
    this.stopPinging();
    this.socket?.close(1000, "streamer stopping");
    this.stateValue = "closed";
  }

  private connect(): void {
    if (this.stopped) return;
    this.stateValue = "connecting";
    this.refusedStatus = undefined;
    const headers: Record<string, string> = {};
    if (this.options.key !== undefined) headers.Authorization = `Bearer ${this.options.key}`;
    const socket = new WebSocket(this.options.url, { headers, handshakeTimeout: 10_000 });
    this.socket = socket;
    socket.on("open", () => {
      if (socket !== this.socket) return;
      this.stateValue = "open";
      this.backoff.reset();
      this.nextRetry = undefined;
      this.logger.info("signalling socket open; waiting for identify");
      this.startPinging();
    });
    socket.on("message", (data, isBinary) => {
      if (socket !== this.socket) return;
      // Epic's peers send text; they also accept JSON in a binary frame, and so do we.
      const text = Array.isArray(data)
        ? Buffer.concat(data).toString("utf8")
        : Buffer.from(data as ArrayBuffer).toString("utf8");
      if (isBinary) this.logger.debug("binary signalling frame read as JSON text");
      this.handleText(text);
    });
    socket.on("unexpected-response", (_request, response) => {
      // The server refused the upgrade (401: a missing or wrong key).
      this.refusedStatus = response.statusCode;
      response.resume();
      socket.terminate();
    });
    socket.on("error", (error) => {
      if (socket !== this.socket) return;
      this.logger.debug({ err: error }, "signalling socket error");
    });
    socket.on("close", (code, reasonBuffer) => {
      if (socket !== this.socket) return;
      this.handleClose(code, reasonBuffer.toString("utf8"));
    });
  }

  private handleText(text: string): void {
    const parsed = parsePsFrame(text);
    if (parsed.kind === "unknown") {
      this.logger.debug({ type: parsed.type }, "unhandled signalling message ignored");
      return;
    }
    if (parsed.kind === "invalid") {
      this.logger.warn({ type: parsed.type, problem: parsed.problem }, "invalid signalling message ignored");
      return;
    }
    const message = parsed.message;
    switch (message.type) {
      case "identify":
        this.identify();
        return;
      case "config":
        // Wilbur sends identify then config; a server may send config first. Either starts us.
        this.options.handlers.onMessage(message);
        return;
      case "endpointIdConfirm":
        this.committedId = message.committedId;
        this.stateValue = "identified";
        if (message.committedId !== this.options.streamerId) {
          this.logger.warn(
            { asked: this.options.streamerId, committedId: message.committedId },
            "the server gave this streamer another id (the asked one is taken)",
          );
        }
        this.logger.info({ streamerId: message.committedId }, "identified");
        this.options.handlers.onIdentified(message.committedId);
        return;
      case "ping":
        this.send(psOut.pong(message.time ?? 0));
        return;
      case "pong":
        this.handlePong();
        return;
      default:
        this.options.handlers.onMessage(message);
    }
  }

  private identify(): void {
    this.send(psOut.endpointId(this.options.streamerId));
    this.logger.debug({ id: this.options.streamerId }, "endpointId sent");
  }

  private handleClose(code: number, reason: string): void {
    this.socket = undefined;
    this.stopPinging();
    const wasOpen = this.stateValue === "open" || this.stateValue === "identified";
    this.stateValue = "closed";
    this.committedId = undefined;
    if (wasOpen) this.options.handlers.onDisconnected({ code, reason });
    if (this.stopped) return;
    const delayMs = this.backoff.next();
    const refused = this.refusedStatus;
    const retryCode: PsRetry["code"] =
      refused !== undefined ? "refused" : wasOpen ? "disconnected" : "unreachable";
    this.nextRetry = { at: this.clock.now() + delayMs, code: retryCode };
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = undefined;
      this.nextRetry = undefined;
      this.connect();
    }, delayMs);
    if (refused !== undefined) {
      this.logger.warn(
        {
          url: redactUrl(this.options.url),
          status: refused,
          hasKey: this.options.key !== undefined,
          retryInMs: delayMs,
        },
        refused === 401 || refused === 403
          ? "the signalling server refused this streamer: check --key (sent as Authorization: Bearer) or ?key= in the URL"
          : "the signalling server refused the WebSocket upgrade",
      );
    } else if (wasOpen) {
      this.logger.warn({ code, reason, retryInMs: delayMs }, "lost the signalling connection; reconnecting");
    } else {
      this.logger.warn(
        { url: redactUrl(this.options.url), retryInMs: delayMs },
        "cannot reach the signalling server; retrying",
      );
    }
  }

  private startPinging(): void {
    this.stopPinging();
    if (this.options.pingIntervalMs <= 0) return;
    this.pingTimer = this.clock.setInterval(() => {
      const time = this.unixSeconds();
      if (this.send(psOut.ping(time))) {
        this.pingSentAt = this.clock.now();
        if (this.options.logPingPong) this.logger.info({ time }, "ping");
      }
    }, this.options.pingIntervalMs);
  }

  private stopPinging(): void {
    if (this.pingTimer !== undefined) this.clock.clearInterval(this.pingTimer);
    this.pingTimer = undefined;
    this.pingSentAt = undefined;
  }

  private handlePong(): void {
    if (this.pingSentAt === undefined) return;
    this.lastRttMs = this.clock.now() - this.pingSentAt;
    this.pingSentAt = undefined;
    if (this.options.logPingPong) this.logger.info({ rttMs: this.lastRttMs }, "pong");
  }
}
