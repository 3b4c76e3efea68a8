/**
 * socket.io middleware: decides who a socket is before it connects. A refusal reaches the
 * client as `connect_error` whose `message` is a stable HandshakeError code and whose `data`
 * carries a sentence for people. A valid resume token names the peer the socket continues.
 *
 * Checks, cheapest first: Origin, connections from this address, the shape of `auth`, resume
 * token, streamer id in use, then the key or token (the only asynchronous step).
 */
import { HandshakeAuthSchema, HandshakeError, type HandshakeAuth } from "@heartline/shared";
import type { Logger } from "pino";
import type { AccessDecision, AccessPolicy } from "../access/AccessPolicy.js";
import { clientAddressOf, ownOriginOf, type TrustProxy } from "../access/forwarded.js";
import { RefusalLog } from "../access/RefusalLog.js";
import type { Peer } from "../sessions/Peer.js";
import { forgetHandshakeSecrets, withoutSecrets } from "./forgetSecrets.js";
import type { HubSocket } from "./types.js";

/** What a malformed field of `auth` must look like, by field. */
const FIELD_PROBLEMS: Record<string, string> = {
  resumeToken:
    "auth.resumeToken is malformed: send the resumeToken string (16-128 characters) of the hub's last config unchanged, or leave it out to connect afresh",
  key: "auth.key is malformed: a streamer key is a string of 1-256 characters",
  token:
    "auth.token is malformed: a player token is a string of 1-4096 characters (the token of your player link)",
};

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

/** Decides the identity of a socket from its handshake `auth` (no key or token check here). */
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
    // Name the field that is wrong, so a client written from the docs knows what to fix.
    const field = parsed.error.issues.map((issue) => issue.path[0]).find((key) => typeof key === "string");
    const known = field === undefined ? undefined : FIELD_PROBLEMS[field];
    return {
      ok: false,
      error: refusal(
        HandshakeError.InvalidHandshake,
        known ??
          'auth must be {role: "streamer", streamerId, key?, resumeToken?} or {role: "player", token?, resumeToken?}',
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

export interface HandshakeMiddlewareOptions extends HandshakeContext {
  access: AccessPolicy;
  /** Whether to believe X-Forwarded-For / X-Forwarded-Proto (a reverse proxy sets them). */
  trustProxy(): TrustProxy;
  /** Told of every refusal (for metrics). */
  refused?(code: HandshakeError): void;
  /** Throttles the refusal lines (a flood of handshakes must not flood the log). */
  refusals?: RefusalLog;
  /** The key or token a new peer was admitted with (kept in memory, off the socket), for resumes. */
  admitted?(socket: HubSocket, auth: HandshakeAuth): void;
  /** What a peer was admitted with: re-checked when it resumes (expiry, rotated keys). */
  admittedWith?(peer: Peer): HandshakeAuth | undefined;
  /** Sockets currently open from this address. */
  connectionsFrom(address: string): number;
  connectionsPerIp(): number;
  /**
   * Multi-node: claims a new streamer's id across the cluster, after its key was checked.
   * Resolves to the node holding it when another node does.
   */
  claimStreamerId?(
    streamerId: string,
    resumeToken: string | undefined,
  ): Promise<{ ok: true } | { ok: false; heldBy: string }>;
}

/** The client's address (see access/forwarded.ts). */
export function clientAddress(socket: HubSocket, trustProxy: TrustProxy): string {
  return clientAddressOf(socket.handshake.headers, socket.handshake.address, trustProxy);
}

function ownOrigin(socket: HubSocket, trustProxy: TrustProxy): string {
  return ownOriginOf(socket.handshake.headers, socket.handshake.address, socket.handshake.secure, trustProxy);
}

export function handshakeMiddleware(options: HandshakeMiddlewareOptions, log: Logger) {
  const refusals = options.refusals ?? new RefusalLog();
  const refuse = (socket: HubSocket, next: (error?: Error) => void, error: HandshakeRefusal): void => {
    refusals.warn(
      log,
      { code: error.data.code, address: clientAddress(socket, options.trustProxy()) },
      "handshake refused",
    );
    options.refused?.(error.data.code);
    next(error);
  };
  return (socket: HubSocket, next: (error?: Error) => void): void => {
    const { origin } = socket.handshake.headers;
    const trustProxy = options.trustProxy();
    if (!options.access.originAllowed(origin, ownOrigin(socket, trustProxy))) {
      refuse(
        socket,
        next,
        refusal(HandshakeError.OriginNotAllowed, "this page's origin may not connect to this hub"),
      );
      return;
    }
    if (options.connectionsFrom(clientAddress(socket, trustProxy)) >= options.connectionsPerIp()) {
      refuse(
        socket,
        next,
        refusal(HandshakeError.TooManyConnections, "too many connections from this address"),
      );
      return;
    }
    const result = checkHandshake(socket.handshake.auth, options);
    if (!result.ok) {
      refuse(socket, next, result.error);
      return;
    }
    // A resume token stands in for the key or token the peer was admitted with, which is checked
    // again: a player token that expired or a key removed since (a reload) resumes nothing.
    const resumed = result.resume;
    const credentials = resumed ? options.admittedWith?.(resumed) : undefined;
    const recheck: Promise<AccessDecision> = credentials
      ? options.access.check(credentials)
      : Promise.resolve({ ok: true, onlyStreamerId: undefined });
    const decision: Promise<AccessDecision> = !resumed
      ? options.access.check(result.auth)
      : recheck.then((again): AccessDecision =>
          again.ok
            ? { ok: true, onlyStreamerId: resumed.onlyStreamerId, tokenId: undefined }
            : {
                ok: false,
                code: again.code,
                message: `cannot resume: the credential this peer was admitted with is no longer valid (${again.message}); connect again without resumeToken`,
              },
        );
    const { auth } = result;
    const claim = async (): Promise<{ ok: true } | { ok: false; heldBy: string }> =>
      auth.role === "streamer" && !result.resume && options.claimStreamerId
        ? options.claimStreamerId(auth.streamerId, auth.resumeToken)
        : { ok: true };
    decision.then(
      async (access) => {
        if (!access.ok) {
          refuse(socket, next, refusal(access.code, access.message));
          return;
        }
        const claimed = await claim();
        if (!claimed.ok) {
          refuse(
            socket,
            next,
            refusal(
              HandshakeError.StreamerIdTaken,
              `another streamer is connected as '${auth.role === "streamer" ? auth.streamerId : ""}' on hub node ${claimed.heldBy}; choose another id or retry shortly`,
            ),
          );
          return;
        }
        // Checked: no secret stays on the socket (forgetSecrets.ts).
        forgetHandshakeSecrets(socket.handshake);
        socket.data.auth = withoutSecrets(result.auth);
        socket.data.resume = result.resume;
        socket.data.onlyStreamerId = access.onlyStreamerId;
        socket.data.tokenId = access.tokenId;
        if (!result.resume) options.admitted?.(socket, auth);
        next();
      },
      (error: unknown) => {
        log.error({ err: error }, "access check failed");
        refuse(socket, next, refusal(HandshakeError.Unauthorized, "the hub could not check this handshake"));
      },
    );
  };
}
