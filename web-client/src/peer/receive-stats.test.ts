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

  it("is null before any video arrives", () => {
    expect(readReceiveStats(report({ type: "transport" }), null)).toBeNull();
  });
});
