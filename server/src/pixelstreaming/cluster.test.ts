/**
 * Pixel Streaming across two hub nodes on a real redis-server: a PS player on node B watches a
 * PS streamer on node A, each step within the 3 s Epic's protocol harness allows, the relay is
 * verbatim both ways, and endings reach the other node's end in Pixel Streaming's terms.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { RedisServer } from "@heartline/shared/testing";
import { startHub, type TestHub } from "../testing/harness.js";
import { RawPs } from "./testing/RawPs.js";

const INTERVAL = 200;
const STEP_MS = 3000;

let redis: RedisServer;
let prefix = 0;
const hubs: TestHub[] = [];
const peers: RawPs[] = [];

beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(async () => {
  await redis.stop();
});
afterEach(async () => {
  for (const peer of peers.splice(0)) peer.ws.terminate();
  await Promise.all(hubs.splice(0).map((h) => h.close()));
});

async function nodes(): Promise<[TestHub, TestHub]> {
  const keyPrefix = `ps${String(++prefix)}`;
  const start = async (nodeId: string) => {
    const hub = await startHub({
      heartbeat: { intervalMs: INTERVAL, missedBeats: 3 },
      cluster: { redisUrl: redis.url, keyPrefix, nodeId, secret: "ps-cluster-test-secret-0123456789abcdef" },
      pixelStreaming: { enabled: true, streamerGraceMs: 10_000 },
      admin: { token: "ps-cluster-admin-token" },
    });
    hubs.push(hub);
    return hub;
  };
  const a = await start("a");
  const b = await start("b");
  await vi.waitFor(() => {
    expect(a.hub.cluster?.nodeCount).toBe(1);
    expect(b.hub.cluster?.nodeCount).toBe(1);
  });
  return [a, b];
}

const ws = (hub: TestHub, path: string) => hub.url.replace(/^http/, "ws") + path;

describe("Pixel Streaming on two nodes", () => {
  it("a player on node B watches a streamer on node A: list, subscribe, offer, answer, ICE, each within 3 s", async () => {
    const [a, b] = await nodes();
    const { s } = await RawPs.streamer(ws(a, "/ps/streamer"), "ue5");
    peers.push(s);
    const native = await a.streamer("cam1");
    const p = await RawPs.connect(ws(b, "/"));
    peers.push(p);
    await p.next("config");
    // Node B lists A's Pixel Streaming streamer, and not A's heartline one.
    let n = 0;
    await vi.waitFor(
      async () => {
        p.send({ type: "listStreamers" });
        const list = await p.next("streamerList", n++);
        expect(list.ids).toEqual(["ue5"]);
      },
      { timeout: 5000, interval: 100 },
    );
    p.send({ type: "subscribe", streamerId: "ue5" });
    const connected = await s.next("playerConnected", 0, STEP_MS);
    const playerId = String(connected.playerId);
    expect(connected).toEqual({ type: "playerConnected", dataChannel: true, sfu: false, playerId });
    const offer = { type: "offer", sdp: "v=0\r\nmock", playerId, scalabilityMode: "L1T1", multiplex: true };
    s.send(offer);
    expect(await p.next("offer", 0, STEP_MS)).toEqual(offer);
    p.send({ type: "answer", sdp: "v=0\r\nanswer", minBitrateBps: 0, maxBitrateBps: 0, playerId: "" });
    expect(await s.next("answer", 0, STEP_MS)).toEqual({
      type: "answer",
      sdp: "v=0\r\nanswer",
      minBitrateBps: 0,
      maxBitrateBps: 0,
      playerId,
    });
    const candidate = {
      candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host",
      sdpMid: "0",
      sdpMLineIndex: 0,
      usernameFragment: "x",
    };
    s.send({ type: "iceCandidate", candidate, playerId });
    expect(await p.next("iceCandidate", 0, STEP_MS)).toEqual({ type: "iceCandidate", candidate, playerId });
    // The session is a heartline session on both nodes, with the player's RTT.
    const { sessions } = (await (
      await fetch(`${b.url}/api/sessions`, { headers: { authorization: "Bearer ps-cluster-admin-token" } })
    ).json()) as { sessions: { streamerId: string; protocol: string; elsewhere: unknown }[] };
    expect(sessions).toMatchObject([
      { streamerId: "ue5", protocol: "pixelstreaming", elsewhere: { end: "streamer", nodeId: "a" } },
    ]);
    expect(a.hub.registry.sessionCount).toBe(1);
    // The player leaves: A's streamer hears playerDisconnected at once.
    p.close();
    expect(await s.next("playerDisconnected", 0, STEP_MS)).toEqual({ type: "playerDisconnected", playerId });
    native.close();
  });

  it("a streamer's disconnectPlayer on node A closes the player on node B with 1001 kicked", async () => {
    const [a, b] = await nodes();
    const { s } = await RawPs.streamer(ws(a, "/ps/streamer"), "ue5");
    peers.push(s);
    const p = await RawPs.connect(ws(b, "/"));
    peers.push(p);
    await vi.waitFor(() => {
      expect(b.hub.pixelStreaming?.streamerIds()).toEqual(["ue5"]);
    });
    p.send({ type: "subscribe", streamerId: "ue5" });
    const { playerId } = await s.next("playerConnected", 0, STEP_MS);
    s.send({ type: "disconnectPlayer", playerId, reason: "bad ICE" });
    expect(await p.closedWith(STEP_MS)).toEqual({ code: 1001, reason: "kicked" });
    expect(await s.next("playerDisconnected", 0, STEP_MS)).toEqual({ type: "playerDisconnected", playerId });
  });

  it("a streamer that drops on A and identifies again on B gets the player held on B back", async () => {
    const [a, b] = await nodes();
    const first = await RawPs.streamer(ws(a, "/ps/streamer"), "ue5");
    peers.push(first.s);
    const p = await RawPs.connect(ws(b, "/"));
    peers.push(p);
    await vi.waitFor(() => {
      expect(b.hub.pixelStreaming?.streamerIds()).toEqual(["ue5"]);
    });
    p.send({ type: "subscribe", streamerId: "ue5" });
    const { playerId } = await first.s.next("playerConnected", 0, STEP_MS);
    first.s.close();
    await vi.waitFor(() => {
      expect(b.hub.pixelStreaming?.streamerIds()).toEqual([]);
    });
    expect(p.closed).toBeUndefined();
    // Back on the other node (a load balancer without sticky sessions).
    const second = await RawPs.streamer(ws(b, "/ps/streamer"), "ue5");
    peers.push(second.s);
    expect(second.committedId).toBe("ue5");
    expect(await p.next("streamerList", 0, STEP_MS)).toEqual({ type: "streamerList", ids: ["ue5"] });
    p.send({ type: "subscribe", streamerId: "ue5" });
    expect((await second.s.next("playerConnected", 0, STEP_MS)).playerId).toBe(playerId);
  });
});
