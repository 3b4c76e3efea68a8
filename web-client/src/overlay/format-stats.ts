/** Figures of the stats overlay, formatted for people; "—" where there is none yet. */

const NONE = "—";

/** "12 ms"; an RTT the streamer has not measured yet is "—". */
export function formatMs(ms: number | null): string {
  return ms === null ? NONE : `${Math.round(ms)} ms`;
}

/** "850 kbit/s", "2.4 Mbit/s". */
export function formatBitrate(kbps: number | null): string {
  if (kbps === null) return NONE;
  return kbps < 1000 ? `${Math.round(kbps)} kbit/s` : `${(kbps / 1000).toFixed(1)} Mbit/s`;
}

/** "640 × 360". */
export function formatResolution(width: number | null, height: number | null): string {
  return width === null || height === null ? NONE : `${width} × ${height}`;
}

/** "VP8" from "video/VP8". */
export function formatCodec(mimeType: string | null): string {
  if (mimeType === null) return NONE;
  const slash = mimeType.indexOf("/");
  return slash === -1 ? mimeType : mimeType.slice(slash + 1);
}

/** "29.8" frames per second. */
export function formatFps(fps: number | null): string {
  return fps === null ? NONE : fps.toFixed(1);
}

/** Whole seconds left until `at`, at least 1 while it is still ahead: "retrying in 3 s". */
export function secondsUntil(at: number, now: number): number {
  return Math.max(0, Math.ceil((at - now) / 1000));
}
