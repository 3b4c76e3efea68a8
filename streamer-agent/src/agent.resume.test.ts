/**
 * Resume against the real hub: the agent reaches the hub through a TCP proxy the test can cut,
 * while the player stays connected directly. A dropped agent socket must not end the session:
 * the video keeps flowing peer to peer, and the reconnect resumes the same session without a
 * new offer.
 */
import { startOpenHub } from "./testing/openHub.js";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { LoggedProcess } from "./testing/LoggedProcess.js";
import { freePort } from "@heartline/shared/testing";
import { TcpProxy } from "./testing/TcpProxy.js";
import { TestPlayer } from "./testing/TestPlayer.js";

const HEARTBEAT_INTERVAL_MS = 200;
/** Long enough for the agent's reconnect backoff (250-750 ms for the first retry). */
const RESUME_GRACE_MS = 5_000;

let hubUrl: string;
let hub: LoggedProcess;
let proxy: TcpProxy;

beforeAll(async () => {
  const port = await freePort();
  hubUrl = `http://127.0.0.1:${port}`;
  hub = await startOpenHub(port, [
    "--heartbeat-interval-ms",
    String(HEARTBEAT_INTERVAL_MS),
    "--heartbeat-missed-beats",
    "3",
    "--heartbeat-resume-grace-ms",
    String(RESUME_GRACE_MS),
  ]);
  proxy = await TcpProxy.start(port);
});
afterAll(async () => {
  await proxy.close();
  await hub.stop();
});

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  proxy.restore();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An agent registered through the proxy, and a player receiving its video directly from the hub. */
async function streaming(
  id: string,
): Promise<{ agent: LoggedProcess; player: TestPlayer; sessionId: string }> {
  const agent = new LoggedProcess("streamer-agent/src/cli.ts", [
    "--hub",
    `http://127.0.0.1:${proxy.port}`,
    "--id",
    id,
    "--loopback-only",
    "true",
    "--size",
    "320x180",
  ]);
  cleanups.push(() => agent.stop());
  await agent.waitForLine("registered", { streamerId: id });
  const player = new TestPlayer(hubUrl);
  cleanups.push(() => player.close());
  player.subscribe(id);
  await vi.waitFor(() => {
    expect(player.rtpPackets, "RTP packets at the player").toBeGreaterThanOrEqual(60);
  }, 10_000);
  const sessionId = player.sessionId;
  if (sessionId === undefined) throw new Error("no session");
  return { agent, player, sessionId };
}

const offers = (player: TestPlayer): number => player.received.filter((m) => m.type === "offer").length;
const pings = (player: TestPlayer): number => player.received.filter((m) => m.type === "ping").length;

describe("agent resume with the real hub", () => {
  it("keeps the session through a dropped hub connection: same session, video never stops, no new offer", async () => {
    const { agent, player, sessionId } = await streaming("cam-resume");
    expect(offers(player)).toBe(1);

    proxy.cut();
    await agent.waitForLine("lost the hub connection; keeping the sessions for a resume");
    const rtpAtCut = player.rtpPackets;
    const pingsAtCut = pings(player);
    // Peer to peer, the video does not care about the signaling outage.
    await vi.waitFor(() => {
      expect(player.rtpPackets, "video during the outage").toBeGreaterThan(rtpAtCut + 60);
    }, RESUME_GRACE_MS / 2);
    expect(pings(player)).toBe(pingsAtCut);

    proxy.restore();
    const resumed = await agent.waitForLine("sessions resumed", {}, 10_000);
    expect(resumed.sessionIds).toEqual([sessionId]);
    await vi.waitFor(() => {
      expect(pings(player), "pings again").toBeGreaterThan(pingsAtCut + 3);
    }, 10_000);
    const rtpAtResume = player.rtpPackets;
    await vi.waitFor(() => {
      expect(player.rtpPackets, "more video").toBeGreaterThan(rtpAtResume + 60);
    }, 10_000);

    expect(agent.linesMatching("registered")).toHaveLength(2);
    expect(offers(player)).toBe(1);
    expect(player.received.filter((m) => m.type === "sessionClosed")).toEqual([]);
    expect(agent.linesMatching("session closed")).toEqual([]);
    expect(player.sessionId).toBe(sessionId);
  });

  it("closes the session, once, when the hub stays away longer than the grace period", async () => {
    const { agent, player, sessionId } = await streaming("cam-gone");
    proxy.cut();
    await agent.waitForLine(
      "session closed",
      { sessionId, reason: "streamer-left" },
      RESUME_GRACE_MS + 5_000,
    );
    await vi.waitFor(() => {
      expect(
        player.received.some((m) => m.type === "sessionClosed" && m.reason === "streamer-left"),
        "the hub to end it too",
      ).toBe(true);
    }, 10_000);
    proxy.restore();
    await agent.waitFor("a second registration", () => agent.linesMatching("registered")[1], 20_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(agent.linesMatching("session closed", { sessionId })).toHaveLength(1);
  });
});
