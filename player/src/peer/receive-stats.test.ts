import { describe, expect, it } from "vitest";
import { readReceiveStats } from "./receive-stats.js";

const report = (...entries: object[]) => new Map(entries.map((e, i) => [String(i), e]));

describe("readReceiveStats", () => {
  it("reads the inbound video entry, jitter in ms", () => {
    const sample = readReceiveStats(
      report(
        { type: "inbound-rtp", kind: "audio", framesDecoded: 0 },
        {
          type: "inbound-rtp",
          kind: "video",
          timestamp: 1000,
          framesDecoded: 300,
          framesPerSecond: 30,
          jitter: 0.0025,
          packetsLost: 2,
        },
      ),
      null,
    );
    expect(sample?.stats).toEqual({ framesDecoded: 300, fps: 30, jitterMs: 2.5, packetsLost: 2 });
  });

  it("derives fps from framesDecoded when the browser reports none", () => {
    const first = readReceiveStats(
      report({ type: "inbound-rtp", kind: "video", timestamp: 1000, framesDecoded: 100 }),
      null,
    );
    expect(first?.stats.fps).toBe(0);
    const second = readReceiveStats(
      report({ type: "inbound-rtp", kind: "video", timestamp: 2000, framesDecoded: 125 }),
      first,
    );
    expect(second?.stats).toEqual({ framesDecoded: 125, fps: 25, jitterMs: 0, packetsLost: 0 });
  });

  it("reads resolution, the codec's mimeType and the bitrate from the bytesReceived delta", () => {
    const codec = { type: "codec", id: "C1", mimeType: "video/VP8" };
    const entry = { type: "inbound-rtp", kind: "video", frameWidth: 640, frameHeight: 360, codecId: "C1" };
    const first = readReceiveStats(report(codec, { ...entry, timestamp: 1000, bytesReceived: 10_000 }), null);
    expect(first?.video).toEqual({ width: 640, height: 360, bitrateKbps: null, codec: "video/VP8" });
    const second = readReceiveStats(
      report(codec, { ...entry, timestamp: 2000, bytesReceived: 135_000 }),
      first,
    );
    expect(second?.video.bitrateKbps).toBe(1000);
  });

  it("gives no bitrate when bytesReceived went backwards, and no codec without a codec entry", () => {
    const entry = { type: "inbound-rtp", kind: "video", codecId: "missing" };
    const first = readReceiveStats(report({ ...entry, timestamp: 1000, bytesReceived: 50_000 }), null);
    const second = readReceiveStats(report({ ...entry, timestamp: 2000, bytesReceived: 100 }), first);
    expect(second?.video).toEqual({ width: null, height: null, bitrateKbps: null, codec: null });
  });

  it("is null before any video arrives", () => {
    expect(readReceiveStats(report({ type: "transport" }), null)).toBeNull();
  });
});
