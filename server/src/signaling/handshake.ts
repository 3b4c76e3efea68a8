/**
 * socket.io middleware: decides who a socket is before it connects. A refusal reaches the
 * client as `connect_error` whose `message` is a stable HandshakeError code and whose `data`
 * carries a sentence for people. A valid resume token names the peer the socket continues.
 */
import { HandshakeAuthSchema, HandshakeError, type HandshakeAuth } from "@heartline/shared";
import type { Logger } from "pino";
import type { Peer } from "../sessions/Peer.js";
import type { HubSocket } from "./types.js";

export interface HandshakeRefusal extends Error {
  data: { code: HandshakeError; message: string };
}

function refusal(code: HandshakeError, message: string): HandshakeRefusal {
  const error = new Error(code) as HandshakeRefusal;
  error.data = { code, message };
  return error;
}

/** What the handshake needs to know about the hub's peers. */
export interface HandshakeContext {
  isStreamerIdTaken(streamerId: string): boolean;
  peerByToken(token: string): Peer | undefined;
}

export type HandshakeResult =
  { ok: true; auth: HandshakeAuth; resume: Peer | undefined } | { ok: false; error: HandshakeRefusal };

/** Decides the identity of a socket from its handshake `auth`. */
export function checkHandshake(auth: unknown, context: HandshakeContext): HandshakeResult {
  const parsed = HandshakeAuthSchema.safeParse(auth);
  if (!parsed.success) {
    const role = typeof auth === "object" && auth !== null ? (auth as { role?: unknown }).role : undefined;
    if (role === "streamer" && parsed.error.issues.some((issue) => issue.path[0] === "streamerId")) {
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
        'auth must be {role: "streamer", streamerId, resumeToken?} or {role: "player", resumeToken?}',
      ),
    };
  }
  const request = parsed.data;
  // A token resumes only the identity it was issued to: same role, same streamer id.
  const candidate = request.resumeToken === undefined ? undefined : context.peerByToken(request.resumeToken);
  const resume =
    candidate &&
    candidate.role === request.role &&
    (request.role === "player" || candidate.streamerId === request.streamerId)
      ? candidate
      : undefined;
  if (request.role === "streamer" && !resume && context.isStreamerIdTaken(request.streamerId)) {
    return {
      ok: false,
      error: refusal(
        HandshakeError.StreamerIdTaken,
        `another streamer is connected as '${request.streamerId}' (or may still resume); choose another id or retry shortly`,
      ),
    };
  }
  return { ok: true, auth: request, resume };
}

export function handshakeMiddleware(context: HandshakeContext, log: Logger) {
  return (socket: HubSocket, next: (error?: Error) => void): void => {
    const result = checkHandshake(socket.handshake.auth, context);
    if (!result.ok) {
      log.warn({ code: result.error.data.code, address: socket.handshake.address }, "handshake refused");
      next(result.error);
      return;
    }
    socket.data.auth = result.auth;
    socket.data.resume = result.resume;
    next();
  };
}
