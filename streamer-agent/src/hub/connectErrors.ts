/**
 * What an operator should do about each way the hub can refuse or miss the agent's connection,
 * and how soon retrying makes sense. The hub puts a HandshakeError code in the `connect_error`
 * message; anything else is a transport failure (hub down, wrong URL, proxy in the way).
 */
import { HandshakeError } from "@heartline/shared";

export interface ConnectErrorAdvice {
  /** The handshake code, or `unreachable` for a transport failure. */
  code: HandshakeError | "unreachable";
  hint: string;
  /**
   * A refusal that only an operator can lift (a wrong key, a bad id): retry slowly, every
   * REFUSED_RETRY_MS, instead of hammering the hub with the same handshake.
   */
  needsOperator: boolean;
}

/** How often a handshake that only an operator can fix is retried. */
export const REFUSED_RETRY_MS = 30_000;

export interface ConnectContext {
  hub: string;
  streamerId: string;
  /** Whether the agent presented a key (never the key itself). */
  hasKey: boolean;
}

export function adviseOnConnectError(error: Error, context: ConnectContext): ConnectErrorAdvice {
  const { hub, streamerId } = context;
  switch (error.message) {
    case HandshakeError.Unauthorized:
      return {
        code: HandshakeError.Unauthorized,
        hint: context.hasKey
          ? `the hub at ${hub} refused the streamer key: pass --key <key> matching one of the hub's auth.streamerKeys (bound to this --id '${streamerId}' if the key names ids)`
          : `the hub at ${hub} requires a streamer key: pass --key <key> matching one of the hub's auth.streamerKeys (or run the hub with --auth-open true for local development)`,
        needsOperator: true,
      };
    case HandshakeError.StreamerIdTaken:
      return {
        code: HandshakeError.StreamerIdTaken,
        hint: `another agent streams under id '${streamerId}' at ${hub}; stop it or choose another --id (retrying until the id is free)`,
        needsOperator: false,
      };
    case HandshakeError.InvalidStreamerId:
      return {
        code: HandshakeError.InvalidStreamerId,
        hint: `the hub at ${hub} refuses id '${streamerId}'; choose another --id (letters, digits, '.', '_', '-')`,
        needsOperator: true,
      };
    case HandshakeError.InvalidHandshake:
      return {
        code: HandshakeError.InvalidHandshake,
        hint: `the hub at ${hub} does not understand this agent's handshake; run an agent and hub of the same version`,
        needsOperator: true,
      };
    case HandshakeError.OriginNotAllowed:
      return {
        code: HandshakeError.OriginNotAllowed,
        hint: `the hub at ${hub} refused this connection's origin; is --hub pointing through a proxy that adds an Origin header?`,
        needsOperator: true,
      };
    case HandshakeError.TooManyConnections:
      return {
        code: HandshakeError.TooManyConnections,
        hint: `the hub at ${hub} holds too many connections from this address (its limits.connectionsPerIp)`,
        needsOperator: false,
      };
    default:
      return {
        code: "unreachable",
        hint: `cannot reach the hub at ${hub} (${error.message}); is it running and is --hub right?`,
        needsOperator: false,
      };
  }
}
