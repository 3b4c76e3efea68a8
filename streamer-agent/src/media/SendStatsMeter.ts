/**
 * The encoder's send rate as players would see it, measured from its RTP output: frames per
 * second from RTP marker bits (set on the last packet of each frame, for VP8 and H.264 alike)
 * and bitrate from bytes, both over a sliding window. It is what `ping.stats` carries.
 *
 * Packets are counted into fixed buckets rather than kept one by one, so the hot path (every
 * packet of every frame) allocates nothing.
 */
import type { SendStats } from "@heartline/shared";
import { systemClock, type Clock } from "@heartline/shared/timing";

export interface SendStatsMeterOptions {
  /** Length of the sliding window, in ms (default 2000). */
  windowMs?: number;
  /** Width of one bucket, in ms (default 100). */
  bucketMs?: number;
  clock?: Clock;
}

/** The RTP marker bit: the second byte's high bit. */
function hasMarker(packet: Buffer): boolean {
  return ((packet[1] ?? 0) & 0x80) !== 0;
}

export class SendStatsMeter {
  private readonly clock: Clock;
  private readonly bucketMs: number;
  private readonly bytes: Float64Array;
  private readonly frames: Float64Array;
  /** The absolute index (time / bucketMs) of the newest bucket written. */
  private newest = -1;
  private firstPacketAt: number | undefined;

  constructor(options: SendStatsMeterOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.bucketMs = options.bucketMs ?? 100;
    const buckets = Math.max(1, Math.round((options.windowMs ?? 2000) / this.bucketMs));
    this.bytes = new Float64Array(buckets);
    this.frames = new Float64Array(buckets);
  }

  /** Counts one RTP packet sent now. */
  record(packet: Buffer): void {
    const now = this.clock.now();
    this.firstPacketAt ??= now;
    const slot = this.advanceTo(now);
    this.bytes[slot] = (this.bytes[slot] ?? 0) + packet.length;
    if (hasMarker(packet)) this.frames[slot] = (this.frames[slot] ?? 0) + 1;
  }

  /** The rates over the window (or since the first packet, if that is shorter); undefined before any packet. */
  read(): SendStats | undefined {
    if (this.firstPacketAt === undefined) return undefined;
    const now = this.clock.now();
    this.advanceTo(now);
    // Whole buckets that have passed plus the current one's elapsed part.
    const currentIndex = Math.floor(now / this.bucketMs);
    const windowStart = (currentIndex - this.bytes.length + 1) * this.bucketMs;
    const spanMs = now - Math.max(windowStart, this.firstPacketAt);
    if (spanMs <= 0) return undefined;
    let bytes = 0;
    let frames = 0;
    for (let i = 0; i < this.bytes.length; i++) {
      bytes += this.bytes[i] ?? 0;
      frames += this.frames[i] ?? 0;
    }
    return {
      fps: Math.round((frames * 10_000) / spanMs) / 10,
      bitrateKbps: Math.round((bytes * 8) / spanMs),
    };
  }

  /** Clears the buckets that slid out of the window since the last call; returns `now`'s slot. */
  private advanceTo(now: number): number {
    const index = Math.floor(now / this.bucketMs);
    const size = this.bytes.length;
    if (this.newest < 0 || index - this.newest >= size) {
      this.bytes.fill(0);
      this.frames.fill(0);
    } else {
      for (let i = this.newest + 1; i <= index; i++) {
        this.bytes[i % size] = 0;
        this.frames[i % size] = 0;
      }
    }
    if (index > this.newest) this.newest = index;
    return index % size;
  }
}
