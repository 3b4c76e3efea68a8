import { describe, expect, it } from "vitest";
import { heartbeatSettings } from "@heartline/shared/config";
import { keepaliveFor } from "./keepalive.js";

const settings = (intervalMs: number, missedBeats: number) =>
  heartbeatSettings({
    heartbeat: {
      intervalMs,
      missedBeats,
      enforce: true,
      logPingPong: false,
      detector: "fixed",
      pauseToleranceMs: 0,
    },
  });

describe("keepaliveFor", () => {
  it.each([
    [5000, 3],
    [100, 3],
    [250, 2],
    [60_000, 100],
    [1000, 1],
  ])("never lets engine.io close a socket before the heartbeat timeout (interval %i, %i beats)", (i, n) => {
    const h = settings(i, n);
    const k = keepaliveFor(h);
    expect(k.pingIntervalMs + k.pingTimeoutMs).toBeGreaterThan(h.timeoutMs);
    expect(k.tcpKeepAliveInitialDelayMs).toBeGreaterThanOrEqual(1000);
  });

  it("keeps traffic on every idle socket well under a 60 s proxy idle timeout", () => {
    for (const interval of [50, 5000, 30_000, 60_000]) {
      expect(keepaliveFor(settings(interval, 3)).pingIntervalMs).toBeLessThanOrEqual(25_000);
    }
  });

  it("uses the heartbeat interval as engine.io's ping interval at the defaults", () => {
    expect(keepaliveFor(settings(5000, 3))).toEqual({
      pingIntervalMs: 5000,
      pingTimeoutMs: 20_000,
      tcpKeepAliveInitialDelayMs: 5000,
    });
  });
});
