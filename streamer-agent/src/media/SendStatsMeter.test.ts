import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { systemClock } from "@heartline/shared/timing";
import { SendStatsMeter } from "./SendStatsMeter.js";

/** A 1000-byte RTP packet, with or without the marker bit (last packet of a frame). */
function packet(marker: boolean): Buffer {
  const buffer = Buffer.alloc(1000);
  buffer[0] = 0x80;
  buffer[1] = marker ? 0x80 | 96 : 96;
  return buffer;
}

describe("SendStatsMeter", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["performance"] });
    vi.advanceTimersByTime(12_345); // Not aligned to a bucket.
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** `fps` frames of `packetsPerFrame` packets each second, for `seconds`. */
  function send(meter: SendStatsMeter, fps: number, packetsPerFrame: number, seconds: number): void {
    for (let frame = 0; frame < fps * seconds; frame++) {
      for (let i = 1; i <= packetsPerFrame; i++) meter.record(packet(i === packetsPerFrame));
      vi.advanceTimersByTime(1000 / fps);
    }
  }

  it("knows nothing before the first packet", () => {
    expect(new SendStatsMeter({ clock: systemClock }).read()).toBeUndefined();
  });

  it("counts frames by marker bit and bitrate by bytes", () => {
    const meter = new SendStatsMeter({ clock: systemClock });
    send(meter, 30, 4, 3);
    const stats = meter.read();
    // 30 frames/s x 4 packets x 1000 bytes x 8 bits = 960 kbit/s.
    expect(stats?.fps).toBeCloseTo(30, 0);
    expect(stats?.bitrateKbps).toBeGreaterThan(930);
    expect(stats?.bitrateKbps).toBeLessThan(990);
  });

  it("is right after half a window too", () => {
    const meter = new SendStatsMeter({ clock: systemClock });
    send(meter, 25, 2, 1);
    expect(meter.read()?.fps).toBeCloseTo(25, 0);
  });

  it("follows a change of rate within the window and drops to zero when the encoder stops", () => {
    const meter = new SendStatsMeter({ clock: systemClock, windowMs: 1000 });
    send(meter, 30, 1, 2);
    send(meter, 10, 1, 2);
    // Whole frames in a window that ends mid-frame: within one frame of 10.
    expect(meter.read()?.fps).toBeGreaterThanOrEqual(9);
    expect(meter.read()?.fps).toBeLessThanOrEqual(11);
    vi.advanceTimersByTime(5000);
    expect(meter.read()).toEqual({ fps: 0, bitrateKbps: 0 });
  });
});
