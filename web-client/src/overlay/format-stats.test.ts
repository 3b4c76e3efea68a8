import { describe, expect, it } from "vitest";
import {
  formatBitrate,
  formatCodec,
  formatFps,
  formatMs,
  formatResolution,
  secondsUntil,
} from "./format-stats.js";

describe("stats formatting", () => {
  it("shows a dash for figures not measured yet", () => {
    expect([
      formatMs(null),
      formatBitrate(null),
      formatResolution(640, null),
      formatCodec(null),
      formatFps(null),
    ]).toEqual(["—", "—", "—", "—", "—"]);
  });

  it("writes bitrates in kbit/s below a megabit, Mbit/s above", () => {
    expect(formatBitrate(850.4)).toBe("850 kbit/s");
    expect(formatBitrate(2400)).toBe("2.4 Mbit/s");
  });

  it("writes resolution, codec, RTT and fps the way people read them", () => {
    expect(formatResolution(640, 360)).toBe("640 × 360");
    expect(formatCodec("video/VP8")).toBe("VP8");
    expect(formatMs(12.4)).toBe("12 ms");
    expect(formatFps(30)).toBe("30.0");
  });

  it("counts down whole seconds, rounding up", () => {
    expect(secondsUntil(5000, 1000)).toBe(4);
    expect(secondsUntil(5000, 4100)).toBe(1);
    expect(secondsUntil(5000, 6000)).toBe(0);
  });
});
