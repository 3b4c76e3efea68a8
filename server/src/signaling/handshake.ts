/**
 * socket.io middleware: decides who a socket is before it connects. A refusal reaches the
 * client as `connect_error` whose `message` is a stable HandshakeError code and whose `data`
 * carries a sentence for people.
 */
import { HandshakeAuthSchema, HandshakeError, type HandshakeAuth } from "@heartline/shared";
import type { Logger } from "pino";
import type { HubSocket } from "./types.js";

export interface HandshakeRefusal extends Error {
  data: { code: HandshakeError; message: string };
}

function refusal(code: HandshakeError, message: string): HandshakeRefusal {
  const error = new Error(code) as HandshakeRefusal;
  error.data = { code, message };
  return error;
}

/** Decides the identity of a socket from its handshake `auth`. */
export function checkHandshake(
  auth: unknown,
  isStreamerIdTaken: (streamerId: string) => boolean,
): { ok: true; auth: HandshakeAuth } | { ok: false; error: HandshakeRefusal } {
  const parsed = HandshakeAuthSchema.safeParse(auth);
  if (!parsed.success) {
    const role = typeof auth === "object" && auth !== null ? (auth as { role?: unknown }).role : undefined;
    if (role === "streamer") {
      return {
        ok: false,
        error: refusal(
          HandshakeError.InvalidStreamerId,
          "streamerId must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
        ),
      };
    }
    return {
      ok: false,
      error: refusal(
        HandshakeError.InvalidHandshake,
        'auth must be {role: "streamer", streamerId} or {role: "player"}',
      ),
    };
  }
  if (parsed.data.role === "streamer" && isStreamerIdTaken(parsed.data.streamerId)) {
    return {
      ok: false,
      error: refusal(
        HandshakeError.StreamerIdTaken,
        `another streamer is connected as '${parsed.data.streamerId}'; choose another id or stop the other one`,
      ),
    };
  }
  return { ok: true, auth: parsed.data };
}

export function handshakeMiddleware(isStreamerIdTaken: (streamerId: string) => boolean, log: Logger) {
  return (socket: HubSocket, next: (error?: Error) => void): void => {
    const result = checkHandshake(socket.handshake.auth, isStreamerIdTaken);
    if (!result.ok) {
      log.warn({ code: result.error.data.code, address: socket.handshake.address }, "handshake refused");
      next(result.error);
      return;
    }
    socket.data.auth = result.auth;
    next();
  };
}
