import { MediaPingSchema, type MediaPing, type MediaPong } from "@heartline/shared";

/**
 * Handles one message of the streamer's `heartline` data channel: a valid ping is answered with
 * its `time` unchanged, right here. Called from the channel's `message` handler, never from a
 * timer: hidden tabs throttle timers, while message events keep flowing, so a background tab
 * keeps its media heartbeat (and its session).
 * @returns the ping, or null if the message was not a valid ping (ignored).
 */
export function answerMediaPing(data: unknown, send: (text: string) => void): MediaPing | null {
  if (typeof data !== "string") return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return null;
  }
  const result = MediaPingSchema.safeParse(parsed);
  if (!result.success) return null;
  const pong: MediaPong = { type: "pong", time: result.data.time };
  try {
    send(JSON.stringify(pong));
  } catch (error) {
    // The channel closed under us; the streamer's own timeout decides what that means.
    console.warn("heartline: could not answer a media ping", error);
  }
  return result.data;
}
