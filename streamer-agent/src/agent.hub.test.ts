/**
 * The agent CLI against the real hub (server/src/main.ts), both as child processes, with a
 * werift TestPlayer in place of the browser. Everything stays on 127.0.0.1.
 */
import { startOpenHub } from "./testing/openHub.js";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { LoggedProcess } from "./testing/LoggedProcess.js";
import { freePort } from "@heartline/shared/testing";
import { TestPlayer } from "./testing/TestPlayer.js";

const HEARTBEAT_INTERVAL_MS = 200;
const MISSED_BEATS = 3;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let port: number;
let hubUrl: string;
let hub: LoggedProcess;

async function startHub(): Promise<void> {
  hub = await startOpenHub(port, [
    "--heartbeat-interval-ms",
    String(HEARTBEAT_INTERVAL_MS),
    "--heartbeat-missed-beats",
    String(MISSED_BEATS),
  ]);
}

const cleanups: (() => Promise<unknown> | undefined)[] = [];
function startAgent(id: string, extra: string[] = []): LoggedProcess {
  const agent = new LoggedProcess("streamer-agent/src/cli.ts", [
    "--hub",
    hubUrl,
    "--id",
    id,
    "--loopback-only",
    "true",
    "--size",
    "320x180",
    ...extra,
  ]);
  cleanups.push(() => agent.stop());
  return agent;
}
function startPlayer(): TestPlayer {
  const player = new TestPlayer(hubUrl);
  cleanups.push(() => player.close());
  return player;
}

beforeAll(async () => {
  port = await freePort();
  hubUrl = `http://127.0.0.1:${port}`;
  await startHub();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await hub.stop();
});

describe("agent with the real hub", () => {
  it("registers, streams video to a player, pings on the hub's interval, and logs the ending", async () => {
    const agent = startAgent("cam1");
    const registered = await agent.waitForLine("registered", { streamerId: "cam1" });
    expect(registered.playerUrl).toBe(`${hubUrl}/?streamer=cam1`);

    const player = startPlayer();
    player.subscribe("cam1");
    await vi.waitFor(() => {
      expect(player.sessionId, "the session to start").toBeDefined();
    }, 10_000);
    const sessionId = player.sessionId;
    await agent.waitForLine("player joined", { sessionId });
    await vi.waitFor(() => {
      expect(player.rtpPackets, "RTP packets at the player").toBeGreaterThanOrEqual(60);
    }, 10_000);

    const pingsAt = (): number => player.received.filter((m) => m.type === "ping").length;
    const before = pingsAt();
    await new Promise((resolve) => setTimeout(resolve, 10 * HEARTBEAT_INTERVAL_MS));
    // 10 intervals; timers on a busy 2-core box may slip by a beat or two.
    expect(pingsAt() - before).toBeGreaterThanOrEqual(8);
    expect(pingsAt() - before).toBeLessThanOrEqual(11);
    // Heartbeat data: pings carry the RTTs and send stats once known; the media path has its own heartbeat.
    const lastPing = player.received.filter((m) => m.type === "ping").at(-1);
    expect(lastPing).toMatchObject({
      rttMs: expect.any(Number) as number,
      mediaRttMs: expect.any(Number) as number,
      stats: { fps: expect.any(Number) as number, bitrateKbps: expect.any(Number) as number },
    });
    expect(player.channels).toEqual(["heartline"]);
    expect(player.mediaPings.length).toBeGreaterThanOrEqual(8);

    player.unsubscribe();
    await agent.waitForLine("session closed", { sessionId, reason: "unsubscribed" });
    await new Promise((resolve) => setTimeout(resolve, 3 * HEARTBEAT_INTERVAL_MS));
    expect(agent.linesMatching("session closed", { sessionId })).toHaveLength(1);
    // The agent stopped pinging at once: the hub refused nothing for the ended session.
    expect(hub.linesMatching("message refused", { sessionId })).toHaveLength(0);
  });

  it("streams H.264 when started with --codec h264", async () => {
    const agent = startAgent("cam-h264", ["--codec", "h264"]);
    await agent.waitForLine("registered", { streamerId: "cam-h264" });
    const player = startPlayer();
    player.subscribe("cam-h264");
    await vi.waitFor(() => {
      expect(player.rtpPackets, "RTP packets at the player").toBeGreaterThanOrEqual(60);
    }, 10_000);
  });

  it("ends a frozen player's session on the player's heartbeat timeout", async () => {
    const agent = startAgent("cam2");
    await agent.waitForLine("registered", { streamerId: "cam2" });
    const player = startPlayer();
    player.subscribe("cam2");
    await vi.waitFor(() => {
      expect(player.sessionId, "the session to start").toBeDefined();
    }, 10_000);
    player.answerPings = false;
    await agent.waitForLine("session closed", {
      sessionId: player.sessionId,
      reason: "player-heartbeat-timeout",
    });
  });

  it("ends the session with media-timeout when the player stops answering on the data channel", async () => {
    const agent = startAgent("cam-media");
    await agent.waitForLine("registered", { streamerId: "cam-media" });
    const player = startPlayer();
    player.subscribe("cam-media");
    await vi.waitFor(() => {
      expect(player.mediaPings, "media pings at the player").not.toHaveLength(0);
    }, 10_000);
    player.answerMediaPings = false;
    const closed = await agent.waitForLine("session closed", { sessionId: player.sessionId });
    expect(closed.reason).toBe("media-timeout");
    // The hub ended it (no fallback detail), for the player too.
    expect(closed.detail).toBeUndefined();
    await vi.waitFor(() => {
      expect(
        player.received.some((m) => m.type === "sessionClosed" && m.reason === "media-timeout"),
        "the player to hear of it",
      ).toBe(true);
    }, 10_000);
  });

  it("retries with another agent holding its id, and registers once the id is free", async () => {
    const first = startAgent("cam3");
    await first.waitForLine("registered", { streamerId: "cam3" });
    const second = startAgent("cam3");
    await second.waitFor("streamer-id-taken", () => second.lines.find((l) => l.code === "streamer-id-taken"));
    await first.stop();
    await second.waitForLine("registered", { streamerId: "cam3" }, 20_000);
  });

  it("survives a hub restart: reconnects, registers again, and closes the sessions the new hub does not know", async () => {
    const agent = startAgent("cam4");
    await agent.waitForLine("registered", { streamerId: "cam4" });
    const player = startPlayer();
    player.subscribe("cam4");
    await vi.waitFor(() => {
      expect(player.rtpPackets, "RTP packets at the player").toBeGreaterThanOrEqual(60);
    }, 10_000);

    await hub.stop("SIGKILL");
    await agent.waitForLine("session closed", { sessionId: player.sessionId, reason: "streamer-left" });
    await startHub();
    await agent.waitFor("a second registration", () => agent.linesMatching("registered")[1], 20_000);
  });

  it("stops ffmpeg with it: on SIGTERM (exit 0) and even on SIGKILL", async () => {
    const agent = startAgent("cam5");
    const running = await agent.waitForLine("encoder running");
    const ffmpegPid = running.ffmpegPid as number;
    expect(processAlive(ffmpegPid)).toBe(true);
    expect(await agent.stop("SIGTERM")).toBe(0);
    expect(processAlive(ffmpegPid)).toBe(false);

    const killed = startAgent("cam6");
    const killedPid = (await killed.waitForLine("encoder running")).ffmpegPid as number;
    await killed.stop("SIGKILL");
    await vi.waitFor(() => {
      expect(!processAlive(killedPid), "ffmpeg to die with its agent").toBe(true);
    }, 5_000);
  });
});

describe("agent with a hub that hangs (SIGSTOP)", () => {
  it("drops the silent link after hubSilenceLimitMs, long before socket.io would, and resumes once the hub runs again", async () => {
    // 1 s beats and 10 missed: socket.io's own verdict needs 1 + 11 s of silence; the agent's
    // limit is 3 s (hubSilenceLimitMs(1000)).
    const hungPort = await freePort();
    const hung = await startOpenHub(hungPort, [
      "--heartbeat-interval-ms",
      "1000",
      "--heartbeat-missed-beats",
      "10",
    ]);
    cleanups.push(() => hung.stop("SIGKILL"));
    const pid = hung.pid;
    if (pid === undefined) throw new Error("the hub has no pid");
    const agent = new LoggedProcess("streamer-agent/src/cli.ts", [
      "--hub",
      `http://127.0.0.1:${hungPort}`,
      "--id",
      "cam-hung",
      "--loopback-only",
      "true",
      "--size",
      "320x180",
    ]);
    cleanups.push(() => agent.stop());
    await agent.waitForLine("registered", { streamerId: "cam-hung" });
    // A few of the hub's pings first: the agent has its config and has heard the hub.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(agent.linesMatching("lost the hub connection; reconnecting")).toEqual([]);

    process.kill(pid, "SIGSTOP");
    try {
      const silent = await agent.waitFor(
        "the silence verdict",
        () =>
          agent.lines.find((l) => typeof l.msg === "string" && l.msg.startsWith("nothing from the hub for")),
        10_000,
      );
      expect(silent.silentForMs as number).toBeGreaterThanOrEqual(3000);
      const dropped = await agent.waitForLine("lost the hub connection; reconnecting", {}, 5000);
      // Dropped by the agent, not by socket.io's ping timeout (which needs 12 s).
      expect(dropped.reason).not.toBe("ping timeout");
    } finally {
      process.kill(pid, "SIGCONT");
    }
    await agent.waitFor("a second registration", () => agent.linesMatching("registered")[1], 30_000);
  });
});

describe("agent with a hub that requires streamer keys", () => {
  const KEY = "test-streamer-key-0123456789";
  let keyedHub: LoggedProcess;
  let keyedHubUrl: string;
  beforeAll(async () => {
    const keyedPort = await freePort();
    keyedHubUrl = `http://127.0.0.1:${keyedPort}`;
    keyedHub = new LoggedProcess("server/src/main.ts", [
      "--port",
      String(keyedPort),
      "--auth-streamer-keys",
      JSON.stringify([{ key: KEY, streamerIds: ["cam-key"] }]),
    ]);
    await keyedHub.waitFor("the hub to listen", () =>
      keyedHub.lines.find((line) => typeof line.url === "string"),
    );
  });
  afterAll(async () => {
    await keyedHub.stop();
  });
  function startKeyedAgent(id: string, extra: string[]): LoggedProcess {
    const agent = new LoggedProcess("streamer-agent/src/cli.ts", [
      "--hub",
      keyedHubUrl,
      "--id",
      id,
      "--loopback-only",
      "true",
      "--size",
      "160x90",
      ...extra,
    ]);
    cleanups.push(() => agent.stop());
    return agent;
  }

  it("registers with the right --key, and never logs the key", async () => {
    const agent = startKeyedAgent("cam-key", ["--key", KEY, "--log-level", "debug"]);
    await agent.waitForLine("registered", { streamerId: "cam-key" });
    expect(JSON.stringify(agent.lines)).not.toContain(KEY);
    expect(agent.linesMatching("starting agent")[0]?.key).toBe("set");
  });

  it("says what to do without a key, and retries slowly (every 30 s), not in a loop", async () => {
    const agent = startKeyedAgent("cam-key", []);
    const refused = await agent.waitFor("unauthorized", () =>
      agent.lines.find((l) => l.code === "unauthorized"),
    );
    expect(refused.msg).toContain("pass --key <key> matching one of the hub's auth.streamerKeys");
    expect(refused.hub).toBe(keyedHubUrl);
    expect(refused.retryInMs).toBe(30_000);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(agent.lines.filter((l) => l.code === "unauthorized")).toHaveLength(1);
  });

  it("says the key is bound to other ids when it does not open this --id", async () => {
    const agent = startKeyedAgent("cam-other", ["--key", KEY]);
    const refused = await agent.waitFor("unauthorized", () =>
      agent.lines.find((l) => l.code === "unauthorized"),
    );
    expect(refused.msg).toContain("refused the streamer key");
    expect(refused.msg).toContain("bound to this --id 'cam-other' if the key names ids");
    expect(JSON.stringify(agent.lines)).not.toContain(KEY);
  });
});
