import { z } from "zod";

/**
 * Codes carried by an `error` message (hub -> the sender of a refused message). The receiver
 * acts on the code; `message` is for people.
 */
export const ErrorCode = {
  /** Not JSON-shaped as the schema requires (missing or mistyped fields, unknown `type`). */
  InvalidMessage: "invalid-message",
  /** A valid message type that this role may not send (a player sending `offer`, ...). */
  NotAllowed: "not-allowed",
  /** The session does not exist or the sender is not one of its two ends. */
  SessionNotFound: "session-not-found",
  /** `subscribe` named a streamer that is not connected. */
  StreamerNotFound: "streamer-not-found",
  /** `subscribe` to a streamer that already serves `maxPlayers` players. */
  StreamerFull: "streamer-full",
  /** `subscribe` while this player already holds `limits.subscriptionsPerPlayer` sessions. */
  TooManySubscriptions: "too-many-subscriptions",
  /** `subscribe` while the player's token already holds `limits.sessionsPerToken` sessions (on any socket). */
  TokenSessionsFull: "token-sessions-full",
  /** The socket sent faster than `limits.messagesPerSecond`; the message was dropped. */
  RateLimited: "rate-limited",
  /**
   * The other end (or the streamer to subscribe to) is on another hub node, and this hub cannot
   * reach the cluster right now (Redis is down, or the other node did not answer in time). The
   * message was not delivered; try again in a few seconds.
   */
  ClusterUnavailable: "cluster-unavailable",
  /** The hub failed on its side; the message was not delivered. */
  Internal: "internal",
} as const;

export const ERROR_CODES = Object.values(ErrorCode) as [
  (typeof ErrorCode)[keyof typeof ErrorCode],
  ...(typeof ErrorCode)[keyof typeof ErrorCode][],
];
export const ErrorCodeSchema = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof ErrorCodeSchema>;

/**
 * Codes carried by a refused handshake: the `message` of the client's `connect_error`.
 */
export const HandshakeError = {
  /** `auth` is missing, not an object, or has an unknown `role`. */
  InvalidHandshake: "invalid-handshake",
  /** A streamer's `streamerId` is missing or not of the allowed form. */
  InvalidStreamerId: "invalid-streamer-id",
  /** Another connected streamer already holds this `streamerId`. */
  StreamerIdTaken: "streamer-id-taken",
  /** Missing, wrong or expired streamer key or player token. */
  Unauthorized: "unauthorized",
  /** The browser page's Origin is not the hub's own nor in `allowedOrigins`. */
  OriginNotAllowed: "origin-not-allowed",
  /** This IP address already holds `limits.connectionsPerIp` sockets. */
  TooManyConnections: "too-many-connections",
} as const;
export type HandshakeError = (typeof HandshakeError)[keyof typeof HandshakeError];
