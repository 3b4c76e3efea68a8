import { describe, expect, it } from "vitest";
import { QUICK, runBench } from "./cli.js";

// A smoke test of the whole bench (both hubs, real processes, real sockets): it must run end to
// end and produce sane numbers. Speed is measured, never asserted here.
describe("pnpm bench --quick", () => {
  it("drives both hubs through the protocol and tears down every lapsed session", async () => {
    const results = await runBench(QUICK, () => undefined);
    expect(results.map((r) => r.hub)).toEqual(["bare", "heartline"]);
    for (const r of results) {
      expect(r.subscribed).toBe(QUICK.sessions[0]);
      expect(r.steady.rtt.count).toBeGreaterThan(0);
      expect(r.steady.echo.count).toBeGreaterThan(0);
      expect(r.falseTeardowns).toEqual({});
    }
    const lapse = results[1]?.lapse;
    expect(lapse?.notClosed).toBe(0);
    expect(lapse?.reasons).toEqual({ "streamer-heartbeat-timeout": QUICK.lapse });
  }, 90_000);
});
