import { describe, expect, it } from "vitest";
import { RtpContinuity } from "./RtpContinuity.js";

function rtp(seq: number, timestamp: number): Buffer {
  const packet = Buffer.alloc(20);
  packet[0] = 0x80;
  packet[1] = 96;
  packet.writeUInt16BE(seq, 2);
  packet.writeUInt32BE(timestamp, 4);
  return packet;
}
const header = (packet: Buffer): [number, number] => [packet.readUInt16BE(2), packet.readUInt32BE(4)];

describe("RtpContinuity", () => {
  it("passes the first run through unchanged", () => {
    const continuity = new RtpContinuity();
    continuity.startRun();
    const packet = rtp(1000, 5000);
    continuity.rewrite(packet, 0);
    expect(header(packet)).toEqual([1000, 5000]);
  });

  it("continues the sequence and advances the timestamp by the real time of a restart", () => {
    const continuity = new RtpContinuity();
    continuity.startRun();
    continuity.rewrite(rtp(65535, 4_294_967_000), 0);

    continuity.startRun(); // ffmpeg restarted 500 ms later with a random sequence and timestamp
    const first = rtp(123, 777);
    continuity.rewrite(first, 500);
    expect(header(first)).toEqual([0, (4_294_967_000 + 500 * 90) % 2 ** 32]);

    const second = rtp(124, 777 + 3000);
    continuity.rewrite(second, 533);
    expect(header(second)).toEqual([1, (4_294_967_000 + 500 * 90 + 3000) % 2 ** 32]);
  });

  it("refuses a buffer too short to be RTP", () => {
    expect(new RtpContinuity().rewrite(Buffer.alloc(4), 0)).toBe(false);
  });
});
