import type { ReceiveStats } from "@heartline/shared";

/** The fields of an `inbound-rtp` video entry we read; all optional, browsers differ. */
interface InboundVideoEntry {
  type: string;
  kind?: string;
  timestamp?: number;
  framesDecoded?: number;
  framesPerSecond?: number;
  /** Seconds. */
  jitter?: number;
  packetsLost?: number;
}

/** One reading, kept so the next can derive fps when the browser reports no `framesPerSecond`. */
export interface ReceiveStatsSample {
  stats: ReceiveStats;
  /** `timestamp` of the stats entry (ms), or null if it had none. */
  at: number | null;
}

function finite(value: number | undefined): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/**
 * The player's receive figures for `pong.stats`, from a `getStats()` report: the first
 * `inbound-rtp` video entry. `fps` is `framesPerSecond`, or derived from `framesDecoded` since
 * `previous`. Returns null when the report has no inbound video yet.
 */
export function readReceiveStats(
  report: Iterable<[string, unknown]> | { values(): Iterable<unknown> },
  previous: ReceiveStatsSample | null,
): ReceiveStatsSample | null {
  const entries = "values" in report ? [...report.values()] : [...report].map(([, v]) => v);
  const inbound = entries.find(
    (e): e is InboundVideoEntry =>
      typeof e === "object" &&
      e !== null &&
      (e as InboundVideoEntry).type === "inbound-rtp" &&
      (e as InboundVideoEntry).kind === "video",
  );
  if (inbound === undefined) return null;
  const framesDecoded = Math.max(0, Math.round(finite(inbound.framesDecoded) ?? 0));
  const at = finite(inbound.timestamp);
  let fps = finite(inbound.framesPerSecond);
  if (fps === null && previous !== null && previous.at !== null && at !== null && at > previous.at) {
    fps = ((framesDecoded - previous.stats.framesDecoded) * 1000) / (at - previous.at);
  }
  return {
    stats: {
      framesDecoded,
      fps: Math.max(0, Math.round((fps ?? 0) * 10) / 10),
      jitterMs: Math.max(0, Math.round((finite(inbound.jitter) ?? 0) * 1000 * 10) / 10),
      packetsLost: Math.round(finite(inbound.packetsLost) ?? 0),
    },
    at,
  };
}
