import { describe, expect, it } from "vitest";
import { QUICK, QUICK_PS, runBench } from "./cli.js";
import { buildReport } from "./report.js";

// A smoke test of the whole bench (both hubs and two heartline nodes on a real redis-server, real
// processes, real sockets): it must run end to end and produce sane numbers. Speed is measured,
// never asserted here.
describe("pnpm bench --quick", () => {
  it("drives both hubs and a two-node cluster through the protocol and tears down every lapsed session", async () => {
    const results = await runBench(QUICK, () => undefined);
    expect(results.map((r) => r.hub)).toEqual(["bare", "heartline", "heartline-x2"]);
    for (const r of results) {
      expect(r.subscribed).toBe(QUICK.sessions[0]);
      expect(r.steady.rtt.count).toBeGreaterThan(0);
      expect(r.steady.echo.count).toBeGreaterThan(0);
      expect(r.falseTeardowns).toEqual({});
    }
    for (const r of results.slice(1)) {
      expect(r.lapse?.notClosed).toBe(0);
      expect(r.lapse?.reasons).toEqual({ "streamer-heartbeat-timeout": QUICK.lapse });
    }
    // Across nodes, every session spans node a (streamers) and node b (players).
    const nodes = results[2]?.cluster?.nodes ?? [];
    expect(nodes.map((n) => n.nodeId)).toEqual(["a", "b"]);
    expect(results[2]?.steady.nodeCpuPercent?.b).toBeGreaterThan(0);
  }, 120_000);

  it("runs the same load over Pixel Streaming on heartline and a bare ws relay, beside native heartline and the bare hub", async () => {
    const results = await runBench(QUICK_PS, () => undefined);
    expect(results.map((r) => r.hub)).toEqual(["bare", "heartline", "bare-ps", "heartline-ps"]);
    for (const r of results) {
      expect(r.subscribed).toBe(QUICK_PS.sessions[0]);
      // Every hub relays the ICE probe both ways; Pixel Streaming players answer the hub's pings.
      expect(r.steady.iceRtt.count).toBeGreaterThan(0);
      expect(r.steady.relayedPerSecond).toBeGreaterThan(0);
      expect(r.falseTeardowns).toEqual({});
      expect(r.disconnects).toBe(0);
    }
    // Pixel Streaming: streamerList only as the answer to listStreamers (trap T3).
    for (const r of results.slice(2)) expect(r.streamerListsWhileConnecting).toBe(0);
    const summary = buildReport(new Date(), [], results).pixelStreaming;
    expect(summary?.pairs.map((p) => `${p.of}/${p.to}`)).toContain("heartline-ps/heartline");
    expect(summary?.targets).toHaveLength(1);
  }, 90_000);
});
