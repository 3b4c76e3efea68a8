/**
 * Makes the encoder's output one continuous RTP stream across ffmpeg restarts. Each new ffmpeg
 * starts at a random sequence number and timestamp; passed on as is, the jump makes a browser's
 * jitter buffer discard everything that follows, and the picture freezes for good. Here the
 * first packet of each new run continues the sequence where the last run stopped, and its
 * timestamp advances by the real time that passed.
 */
/** RTP video clock rate: 90 kHz, i.e. 90 ticks per millisecond. */
const VIDEO_TICKS_PER_MS = 90;
const RTP_HEADER_BYTES = 12;

export class RtpContinuity {
  private seqOffset = 0;
  private timestampOffset = 0;
  private newRun = false;
  private last: { seq: number; timestamp: number; at: number } | undefined;

  /** Call when a new ffmpeg starts; its first packet is then joined onto the previous run. */
  startRun(): void {
    this.newRun = true;
  }

  /**
   * Rewrites the packet's sequence number and timestamp in place. `nowMs` is the monotonic
   * arrival time. Returns false for a buffer too short to be RTP (drop it).
   */
  rewrite(packet: Buffer, nowMs: number): boolean {
    if (packet.length < RTP_HEADER_BYTES) return false;
    const seq = packet.readUInt16BE(2);
    const timestamp = packet.readUInt32BE(4);
    if (this.newRun) {
      this.newRun = false;
      if (this.last) {
        this.seqOffset = (this.last.seq + 1 - seq) & 0xffff;
        const elapsedTicks = Math.max(1, Math.round((nowMs - this.last.at) * VIDEO_TICKS_PER_MS));
        this.timestampOffset = (this.last.timestamp + elapsedTicks - timestamp) >>> 0;
      }
    }
    const outSeq = (seq + this.seqOffset) & 0xffff;
    const outTimestamp = (timestamp + this.timestampOffset) >>> 0;
    packet.writeUInt16BE(outSeq, 2);
    packet.writeUInt32BE(outTimestamp, 4);
    this.last = { seq: outSeq, timestamp: outTimestamp, at: nowMs };
    return true;
  }
}
