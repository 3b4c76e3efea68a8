/**
 * What an operator should do about each way the hub can refuse or miss the agent's connection.
 * The hub puts a HandshakeError code in the `connect_error` message; anything else is a
 * transport failure (hub down, wrong URL, proxy in the way).
 */
import { HandshakeError } from "@heartline/shared";

export interface ConnectErrorAdvice {
  /** The handshake code, or `unreachable` for a transport failure. */
  code: HandshakeError | "unreachable";
  hint: string;
}

export function adviseOnConnectError(error: Error, hub: string, streamerId: string): ConnectErrorAdvice {
  switch (error.message) {
    case HandshakeError.StreamerIdTaken:
      return {
        code: HandshakeError.StreamerIdTaken,
        hint: `another agent streams under id '${streamerId}'; stop it or choose another --id (retrying until the id is free)`,
      };
    case HandshakeError.InvalidStreamerId:
      return {
        code: HandshakeError.InvalidStreamerId,
        hint: `the hub refuses id '${streamerId}'; choose another --id (letters, digits, '.', '_', '-')`,
      };
    case HandshakeError.InvalidHandshake:
      return {
        code: HandshakeError.InvalidHandshake,
        hint: "the hub does not understand this agent's handshake; run an agent and hub of the same version",
      };
    default:
      return {
        code: "unreachable",
        hint: `cannot reach the hub at ${hub} (${error.message}); is it running and is --hub right? (retrying)`,
      };
  }
}
