import type { StreamerListMessage } from "@heartline/shared";

export type StreamerEntry = StreamerListMessage["streamers"][number];

/** What the player should do with the current streamer list. */
export type StreamerChoice =
  /** Subscribe to this streamer now. */
  | { kind: "subscribe"; streamerId: string }
  /** Several are live and none was named: let the viewer pick one. */
  | { kind: "pick"; streamerIds: string[] }
  /** The named streamer (or, if none was named, any streamer) is not live. */
  | { kind: "wait"; streamerId: string | null };

/**
 * Picks the streamer named in `?streamer=`, or the only one listed when none is named.
 * @param previous the streamer this player watched last, if none was named: it is preferred
 *   while listed, so recovery returns to it rather than to whichever streamer is left.
 */
export function chooseStreamer(
  streamers: readonly StreamerEntry[],
  wanted: string | null,
  previous: string | null = null,
): StreamerChoice {
  if (wanted === null && previous !== null && streamers.some((s) => s.streamerId === previous)) {
    return { kind: "subscribe", streamerId: previous };
  }
  if (wanted !== null) {
    return streamers.some((s) => s.streamerId === wanted)
      ? { kind: "subscribe", streamerId: wanted }
      : { kind: "wait", streamerId: wanted };
  }
  const [only, ...others] = streamers;
  if (only === undefined) return { kind: "wait", streamerId: null };
  if (others.length === 0) return { kind: "subscribe", streamerId: only.streamerId };
  return { kind: "pick", streamerIds: streamers.map((s) => s.streamerId).sort() };
}
