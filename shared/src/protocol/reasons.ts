import { z } from "zod";

/**
 * Why a session ended. Sent to both ends in `sessionClosed`, logged, and each one is tested.
 *
 * - `streamer-heartbeat-timeout`: the hub heard nothing from the streamer for this session
 *   for longer than `heartbeat.timeoutMs` (pings stopped; the streamer is hung or cut off), or,
 *   with the adaptive detector, it missed its beat, did not answer a probe within
 *   `heartbeat.pauseToleranceMs` and no media from it reached the player either.
 * - `player-heartbeat-timeout`: pings were delivered to the player but it answered nothing
 *   for longer than `heartbeat.timeoutMs` (frozen tab, lost network), or, with the adaptive
 *   detector, it answered neither a ping nor a probe in time and the streamer saw no media from it.
 * - `streamer-left`: the streamer left (`bye` or a disconnect), or its socket dropped and it did
 *   not resume within `resumeGraceMs`, or the player reported no media from it either.
 * - `player-left`: the player left (`bye` or a disconnect), or its socket dropped and it did not
 *   resume within `resumeGraceMs`, or the streamer reported no media from it either.
 * - `unsubscribed`: the player asked to end the session.
 * - `media-timeout`: an end reported the media path dead (the data-channel heartbeat lapsed or
 *   ICE failed) while signaling was still healthy.
 * - `kicked`: an operator ended the session (dashboard or admin API).
 * - `hub-shutdown`: the hub is stopping.
 * - `hub-link-lost`: the two ends are on different hub nodes, and this end's hub stopped hearing
 *   from the other end's hub for longer than `heartbeat.timeoutMs` (that hub died, or Redis
 *   between them is unreachable). Both peers may be fine: reconnecting usually works.
 */
export const SESSION_CLOSE_REASONS = [
  "streamer-heartbeat-timeout",
  "player-heartbeat-timeout",
  "streamer-left",
  "player-left",
  "unsubscribed",
  "media-timeout",
  "kicked",
  "hub-shutdown",
  "hub-link-lost",
] as const;

export const SessionCloseReasonSchema = z.enum(SESSION_CLOSE_REASONS);
export type SessionCloseReason = z.infer<typeof SessionCloseReasonSchema>;
