/**
 * Once a socket's handshake has been checked, the secrets it carried (streamer key, player JWT,
 * resume token, admin token, Authorization and Cookie headers) are removed from the socket, so
 * nothing that can read a socket's handshake or data later (socket.io's `fetchSockets`, which
 * a Redis adapter answers for anyone who can publish to Redis; a heap dump; a debug log) gets
 * them. What is kept is what the hub uses after admission: the role, the streamer id, the
 * features, whether a resume token was presented (as a marker).
 */

/** What replaces a secret that was presented. */
export const FORGOTTEN = "[checked]";

const SECRET_AUTH_KEYS = ["key", "token", "resumeToken"] as const;
/** engine.io's and socket.io's own query parameters; anything else may carry a credential. */
const KEPT_QUERY = new Set(["EIO", "transport", "t", "sid"]);
const SECRET_HEADERS = ["authorization", "proxy-authorization", "cookie"] as const;

/** `auth` with every secret it presented replaced by FORGOTTEN (a new object). */
export function withoutSecrets<T extends object>(auth: T): T {
  const copy = { ...auth } as Record<string, unknown>;
  for (const key of SECRET_AUTH_KEYS) if (copy[key] !== undefined) copy[key] = FORGOTTEN;
  return copy as T;
}

/** Removes the secrets from a socket.io handshake in place. */
export function forgetHandshakeSecrets(handshake: {
  auth: unknown;
  query: Record<string, unknown>;
  headers: Record<string, unknown>;
}): void {
  if (typeof handshake.auth === "object" && handshake.auth !== null) {
    handshake.auth = withoutSecrets(handshake.auth);
  }
  for (const name of Object.keys(handshake.query)) {
    if (!KEPT_QUERY.has(name)) handshake.query[name] = FORGOTTEN;
  }
  for (const name of SECRET_HEADERS) {
    if (handshake.headers[name] !== undefined) handshake.headers[name] = FORGOTTEN;
  }
}
