/**
 * Short-lived TURN credentials by the TURN REST API scheme (coturn's `use-auth-secret`):
 * username = "<expiry unix seconds>:<peer id>", credential = base64(HMAC-SHA1(secret, username)).
 * The TURN server recomputes the HMAC with the same shared secret; nothing is stored.
 */
import { createHmac } from "node:crypto";
import type { IceServer } from "@heartline/shared";
import type { HubConfig } from "@heartline/shared/config";

export function turnCredentials(
  turn: HubConfig["turn"],
  peerId: string,
  nowMs: number = Date.now(),
): IceServer | undefined {
  if (turn.secret === undefined || turn.urls.length === 0) return undefined;
  const expiry = Math.floor(nowMs / 1000) + turn.ttlSec;
  const username = `${expiry}:${peerId}`;
  const credential = createHmac("sha1", turn.secret).update(username).digest("base64");
  return { urls: turn.urls, username, credential };
}
