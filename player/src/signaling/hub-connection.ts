import {
  HandshakeError,
  HubToPlayerMessageSchema,
  MESSAGE_EVENT,
  describeIssue,
  type HandshakeAuth,
  type HubToPlayerMessage,
  type PlayerEmitEvents,
  type PlayerListenEvents,
  type PlayerToHubMessage,
} from "@heartline/shared";
import { Backoff, type BackoffOptions, type Clock, type TimerHandle } from "@heartline/shared/timing";
import { io, type Socket } from "socket.io-client";
import type { HubLink } from "../session/player-session.js";

export type PlayerSocket = Socket<PlayerListenEvents, PlayerEmitEvents>;

/**
 * Delays between attempts to reach the hub: 1 s doubling to 20 s, each spread by ±20 % so
 * players that lost the same hub do not all come back in the same millisecond.
 */
export const RECONNECT_BACKOFF = {
  initialMs: 1000,
  maxMs: 20_000,
  jitter: [0.8, 1.2],
} as const satisfies BackoffOptions;

/** Handshake refusals about who this player is: retrying soon cannot help, only a new link. */
export type AccessRefusal = typeof HandshakeError.Unauthorized | typeof HandshakeError.OriginNotAllowed;

const ACCESS_REFUSALS: ReadonlySet<string> = new Set<AccessRefusal>([
  HandshakeError.Unauthorized,
  HandshakeError.OriginNotAllowed,
]);

export interface HubConnectionEvents {
  /** The `resumeToken` to present on every (re)connection, or null before the first `config`. */
  resumeToken(): string | null;
  connected(): void;
  disconnected(reason: string): void;
  /** @param refusal the hub's handshake error code, or null if it could not be reached. */
  unreachable(refusal: string | null): void;
  /** The hub refused this player's credentials or page origin. */
  refused(refusal: AccessRefusal): void;
  /** A hub message that passed `HubToPlayerMessageSchema`. */
  message(message: HubToPlayerMessage): void;
  /** A retry was scheduled or started (for the countdown on screen). */
  changed(): void;
}

export interface HubConnectionOptions {
  clock: Clock;
  /** The hub's URL (`https://hub.example.com`). Default: the page's own origin. */
  url?: string;
  /** The operator's player token (`?token=`), sent as `auth.token`; null on an open hub. */
  token: string | null;
  /** Delays between attempts while the hub is unreachable. Default: `new Backoff(RECONNECT_BACKOFF)`. */
  backoff?: Backoff;
  /** Delay between attempts after an access refusal (`unauthorized`, ...). Default 30000 ms. */
  refusedRetryMs?: number;
}

/** The socket to the hub, plus the reconnection schedule the overlay counts down. */
export interface HubConnection extends HubLink {
  readonly socket: PlayerSocket;
  /** `clock.now()` when the next connection attempt is due, or null if none is scheduled. */
  readonly retryAt: number | null;
  /** Tries to connect now instead of waiting for the scheduled attempt (the Reconnect button). */
  retryNow(): void;
  /** Disconnects and stops retrying, until the next `retryNow()`; nothing is reported meanwhile. */
  close(): void;
}

/**
 * The player's socket to the hub it was served from: websocket only, validated inbound
 * messages, and our own reconnection schedule.
 *
 * socket.io's built-in reconnection is off (`reconnection: false`): its delays are randomized
 * inside the Manager and not exposed, and it gives up on a refused handshake or a server-side
 * disconnect. Here one timer covers every case, so the overlay can say "retrying in 4 s" and
 * the Reconnect button can cut the wait short: backoff (1 s doubling to 20 s) while the hub is
 * unreachable, a slow 30 s after an access refusal (a hot loop would not make a bad token good).
 */
export function connectToHub(events: HubConnectionEvents, options: HubConnectionOptions): HubConnection {
  const { clock, token } = options;
  const backoff = options.backoff ?? new Backoff(RECONNECT_BACKOFF);
  const refusedRetryMs = options.refusedRetryMs ?? 30_000;
  let retryTimer: TimerHandle | null = null;
  let retryAt: number | null = null;
  /** `close()` was called: the socket's late events are not ours to report. */
  let closed = false;

  const socketOptions: Parameters<typeof io>[1] = {
    transports: ["websocket"],
    reconnection: false,
    // A callback, so every reconnection presents the token of the latest `config` and resumes.
    auth: (cb) => {
      const resumeToken = events.resumeToken();
      // Answers the hub's liveness questions (PlayerSession.handle): it may end a dead streamer sooner.
      const auth: HandshakeAuth = { role: "player", features: ["probe", "mediaCheck"] };
      if (token !== null) auth.token = token;
      if (resumeToken !== null) auth.resumeToken = resumeToken;
      cb(auth);
    },
  };
  const socket: PlayerSocket = options.url === undefined ? io(socketOptions) : io(options.url, socketOptions);

  const cancelRetry = (): void => {
    if (retryTimer !== null) clock.clearTimeout(retryTimer);
    retryTimer = null;
    retryAt = null;
  };
  const attempt = (): void => {
    closed = false;
    cancelRetry();
    if (!socket.connected) socket.connect();
    events.changed();
  };
  const scheduleRetry = (delayMs: number): void => {
    cancelRetry();
    retryAt = clock.now() + delayMs;
    retryTimer = clock.setTimeout(attempt, delayMs);
  };

  socket.on("connect", () => {
    if (closed) return;
    backoff.reset();
    cancelRetry();
    events.connected();
  });
  socket.on("disconnect", (reason) => {
    if (closed) return;
    // Scheduled first, so the state change below is rendered with its countdown.
    if (reason !== "io client disconnect") scheduleRetry(backoff.next());
    events.disconnected(reason);
  });
  socket.on("connect_error", (error) => {
    if (closed) return;
    console.warn("heartline: cannot connect to the hub:", error.message);
    // Inactive after an error means the hub refused the handshake (its code is the message);
    // otherwise the hub could not be reached at all.
    const refusal = socket.active ? null : error.message;
    if (refusal !== null && ACCESS_REFUSALS.has(refusal)) {
      scheduleRetry(refusedRetryMs);
      events.refused(refusal as AccessRefusal);
    } else {
      scheduleRetry(backoff.next());
      events.unreachable(refusal);
    }
  });
  socket.on(MESSAGE_EVENT, (raw: unknown) => {
    const result = HubToPlayerMessageSchema.safeParse(raw);
    if (!result.success) {
      console.warn("heartline: ignoring invalid hub message:", describeIssue(result.error), raw);
      return;
    }
    events.message(result.data);
  });

  return {
    socket,
    get retryAt() {
      return retryAt;
    },
    retryNow: attempt,
    close() {
      closed = true;
      cancelRetry();
      backoff.reset();
      // The goodbye first: the hub ends the session at once whatever becomes of the socket's close.
      if (socket.connected) socket.emit(MESSAGE_EVENT, { type: "bye" });
      socket.disconnect();
    },
    send(message: PlayerToHubMessage) {
      // socket.io would buffer while disconnected and flush on reconnect; a late pong, answer or
      // candidate helps nobody (and a resumed session needs none), so drop it.
      if (socket.connected) socket.emit(MESSAGE_EVENT, message);
    },
  };
}
