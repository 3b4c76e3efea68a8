/**
 * The running config as `GET /api/config` shows it: every secret replaced by a marker that says
 * whether it is set, never its value.
 */
import type { HubConfig } from "@heartline/shared/config";

export const REDACTED = "[redacted]";

export function redactConfig(config: HubConfig): HubConfig {
  const copy = structuredClone(config);
  copy.auth.streamerKeys = copy.auth.streamerKeys.map((entry) => ({ ...entry, key: REDACTED }));
  if (copy.auth.playerTokenSecret !== undefined) copy.auth.playerTokenSecret = REDACTED;
  if (copy.admin.token !== undefined) copy.admin.token = REDACTED;
  if (copy.turn.secret !== undefined) copy.turn.secret = REDACTED;
  if (copy.cluster.secret !== undefined) copy.cluster.secret = REDACTED;
  if (copy.cluster.redisUrl !== undefined) copy.cluster.redisUrl = redactUrl(copy.cluster.redisUrl);
  // Static TURN credentials in iceServers are secrets too.
  copy.iceServers = copy.iceServers.map((server) =>
    server.credential === undefined ? server : { ...server, credential: REDACTED },
  );
  return copy;
}

/** A URL with its password (if any) replaced, e.g. a Redis URL for logs and the API. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = REDACTED;
    return parsed.toString();
  } catch {
    return REDACTED;
  }
}
