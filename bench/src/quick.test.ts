import { describe, expect, it } from "vitest";
import { QUICK, QUICK_PS, runBench } from "./cli.js";
import { buildReport, formatReport } from "./report.js";
import { RELAY_FLOOR, verdict } from "./verdict.js";

// A smoke test of the whole bench (both hubs and two heartline nodes on a real redis-server, real
// processes, real sockets): it must run end to end, every scenario must really relay what it was
// offered (the verdict), and the report must hold no NaN. Speed is measured, never asserted here.
describe("pnpm bench --quick", () => {
  it("drives both hubs and a two-node cluster through the protocol, relays every offered ping and tears down every lapsed session", async () => {
    const run = await runBench(QUICK, () => undefined);
    expect(run.broken).toEqual([]);
    const { results } = run;
    expect(results.map((r) => r.hub)).toEqual(["bare", "heartline", "heartline-x2"]);
    for (const r of results) {
      expect(r.subscribed).toBe(QUICK.sessions[0]);
      expect(r.failed).toBe(0);
      // Every scenario really relayed: at least 99 % of the pings its held sessions offered.
      expect(r.steady.offeredPerSecond).toBe((r.subscribed * 1000) / r.intervalMs);
      expect(r.steady.relaysPerSecond).toBeGreaterThanOrEqual(RELAY_FLOOR * r.steady.offeredPerSecond);
      expect(r.steady.rtt.count).toBeGreaterThan(0);
      expect(r.steady.echo.count).toBeGreaterThan(0);
      expect(r.falseTeardowns).toEqual({});
      expect(r.disconnects).toBe(0);
      // The box's limits were measured for every hub process and load worker.
      expect(Object.keys(r.box.fds).length).toBeGreaterThanOrEqual(2);
      for (const fds of Object.values(r.box.fds)) expect(fds.softLimit).toBeGreaterThan(0);
    }
    for (const r of results.slice(1)) {
      expect(r.lapse?.notClosed).toBe(0);
      expect(r.lapse?.reasons).toEqual({ "streamer-heartbeat-timeout": QUICK.lapse });
    }
    // Across nodes, every session spans node a (streamers) and node b (players).
    const nodes = results[2]?.cluster?.nodes ?? [];
    expect(nodes.map((n) => n.nodeId)).toEqual(["a", "b"]);
    expect(results[2]?.steady.nodeCpuPercent?.b).toBeGreaterThan(0);
    expect(verdict(results, run.broken).failures).toEqual([]);
    const report = buildReport(new Date(), [], results, run.broken);
    expect(report.comparisons).toHaveLength(1);
    expect(formatReport(report)).not.toMatch(/NaN/);
  }, 120_000);

  it("runs the same load over Pixel Streaming on heartline and a bare ws relay, beside native heartline and the bare hub", async () => {
    const { results, broken } = await runBench(QUICK_PS, () => undefined);
    expect(broken).toEqual([]);
    expect(results.map((r) => r.hub)).toEqual(["bare", "heartline", "bare-ps", "heartline-ps"]);
    for (const r of results) {
      expect(r.subscribed).toBe(QUICK_PS.sessions[0]);
      // Every hub relays the ICE probe both ways; Pixel Streaming players answer the hub's pings.
      expect(r.steady.iceRtt.count).toBeGreaterThan(0);
      expect(r.steady.relayedPerSecond).toBeGreaterThan(0);
      expect(r.falseTeardowns).toEqual({});
      expect(r.disconnects).toBe(0);
    }
    expect(verdict(results, broken).failures).toEqual([]);
    // Pixel Streaming: streamerList only as the answer to listStreamers (trap T3).
    for (const r of results.slice(2)) expect(r.streamerListsWhileConnecting).toBe(0);
    const summary = buildReport(new Date(), [], results).pixelStreaming;
    expect(summary?.pairs.map((p) => `${p.of}/${p.to}`)).toContain("heartline-ps/heartline");
    expect(summary?.targets).toHaveLength(1);
  }, 90_000);
});
