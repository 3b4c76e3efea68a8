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
  bytesReceived?: number;
  frameWidth?: number;
  frameHeight?: number;
  /** The `id` of the `codec` entry this stream uses. */
  codecId?: string;
}

interface CodecEntry {
  type: string;
  id?: string;
  mimeType?: string;
}

/** Display-only figures of the inbound video (the stats overlay); not part of the protocol. */
export interface VideoFigures {
  /** `frameWidth` x `frameHeight`, or null before the first decoded frame. */
  width: number | null;
  height: number | null;
  /** Kilobits per second from the `bytesReceived` delta since the previous sample; null on the first. */
  bitrateKbps: number | null;
  /** The codec entry's `mimeType` (`video/VP8`), or null if the report has none. */
  codec: string | null;
}

/** What one `getStats()` reading yields: the protocol's figures and the display ones. */
export interface ReceiveReading {
  stats: ReceiveStats;
  video: VideoFigures;
  /**
   * `bytesReceived` of the inbound video (RTP payload bytes as they arrive, before any jitter
   * buffer), or null if the browser reports none: the proof that the streamer still sends.
   */
  bytesReceived: number | null;
}

/** One reading, kept so the next can derive fps and bitrate from the deltas. */
export interface ReceiveStatsSample extends ReceiveReading {
  /** `timestamp` of the stats entry (ms), or null if it had none. */
  at: number | null;
}

function finite(value: number | undefined): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function isEntry(e: unknown): e is { type: string } {
  return typeof e === "object" && e !== null && typeof (e as { type?: unknown }).type === "string";
}

/**
 * The player's receive figures for `pong.stats` (and the stats overlay), from a `getStats()`
 * report: the first `inbound-rtp` video entry. `fps` is `framesPerSecond`, or derived from
 * `framesDecoded` since `previous`; the bitrate comes from the `bytesReceived` delta since
 * `previous`. Returns null when the report has no inbound video yet.
 */
export function readReceiveStats(
  report: Iterable<[string, unknown]> | { values(): Iterable<unknown> },
  previous: ReceiveStatsSample | null,
): ReceiveStatsSample | null {
  const entries = ("values" in report ? [...report.values()] : [...report].map(([, v]) => v)).filter(isEntry);
  const inbound = entries.find(
    (e): e is InboundVideoEntry => e.type === "inbound-rtp" && (e as InboundVideoEntry).kind === "video",
  );
  if (inbound === undefined) return null;
  const framesDecoded = Math.max(0, Math.round(finite(inbound.framesDecoded) ?? 0));
  const at = finite(inbound.timestamp);
  const elapsedMs =
    previous !== null && previous.at !== null && at !== null && at > previous.at ? at - previous.at : null;
  let fps = finite(inbound.framesPerSecond);
  if (fps === null && elapsedMs !== null && previous !== null) {
    fps = ((framesDecoded - previous.stats.framesDecoded) * 1000) / elapsedMs;
  }
  const bytesReceived = finite(inbound.bytesReceived);
  let bitrateKbps: number | null = null;
  if (elapsedMs !== null && bytesReceived !== null && previous?.bytesReceived != null) {
    const delta = bytesReceived - previous.bytesReceived;
    // A negative delta means a new stream behind the same entry: no figure rather than a wrong one.
    if (delta >= 0) bitrateKbps = Math.round((delta * 8) / elapsedMs);
  }
  const codec = entries.find(
    (e): e is CodecEntry => e.type === "codec" && (e as CodecEntry).id === inbound.codecId,
  );
  const width = finite(inbound.frameWidth);
  const height = finite(inbound.frameHeight);
  return {
    stats: {
      framesDecoded,
      fps: Math.max(0, Math.round((fps ?? 0) * 10) / 10),
      jitterMs: Math.max(0, Math.round((finite(inbound.jitter) ?? 0) * 1000 * 10) / 10),
      packetsLost: Math.round(finite(inbound.packetsLost) ?? 0),
    },
    video: {
      width: width !== null && width > 0 ? width : null,
      height: height !== null && height > 0 ? height : null,
      bitrateKbps,
      codec: inbound.codecId !== undefined && typeof codec?.mimeType === "string" ? codec.mimeType : null,
    },
    at,
    bytesReceived,
  };
}
