/**
 * How a heartline session ending reaches a Pixel Streaming peer. Epic's frontend reconnects by
 * itself 2 s after any close except 1001, and shows the close reason (at most 123 bytes) in its
 * overlay; so a kicked player gets 1001 and stays out, a player whose own heartbeat lapsed gets
 * a 4000-range code and comes back on its own once it thaws.
 */
import type { SessionCloseReason } from "@heartline/shared";

/** Close codes the endpoint uses (RFC 6455 §7.4 and the 4000-4999 private range). */
export const PsClose = {
  /** The frontend stays disconnected and offers "Click To Restart". */
  GoingAway: 1001,
  /** Invalid input past limits.maxViolations, or a refused identity. */
  PolicyViolation: 1008,
  /** The frame was larger than limits.maxMessageBytes. */
  TooBig: 1009,
  /** The hub is restarting or lost its link to the other end's node: reconnect elsewhere. */
  ServiceRestart: 1012,
  /** Transient: try again shortly (the cluster cannot be reached). */
  TryAgainLater: 1013,
  /** The session ended because of this peer's side (its heartbeat lapsed, its streamer is gone). */
  SessionEnded: 4000,
} as const;

/** What a player's socket does when its session ends with `reason`. */
export type PlayerEnding =
  | { action: "close"; code: number; reason: string }
  /** Keep the socket: the streamer may come back under the same id (`pixelStreaming.streamerGraceMs`). */
  | { action: "hold" }
  /** Nothing: the player itself moved on (a re-subscribe). */
  | { action: "none" };

export function playerEnding(reason: SessionCloseReason): PlayerEnding {
  switch (reason) {
    case "streamer-left":
    case "streamer-heartbeat-timeout":
      return { action: "hold" };
    case "kicked":
      return { action: "close", code: PsClose.GoingAway, reason };
    case "hub-shutdown":
    case "hub-link-lost":
      return { action: "close", code: PsClose.ServiceRestart, reason };
    case "unsubscribed":
      return { action: "none" };
    default:
      return { action: "close", code: PsClose.SessionEnded, reason };
  }
}

/** Close reasons are at most 123 bytes of UTF-8 (RFC 6455 §5.5). */
export function closeReason(text: string): string {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= 123) return text;
  return (
    bytes
      .subarray(0, 120)
      .toString("utf8")
      .replace(/\uFFFD$/, "") + "..."
  );
}
