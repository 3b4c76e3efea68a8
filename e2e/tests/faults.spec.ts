/**
 * Faults from the outside: a killed agent, a killed hub, a partitioned and a lossy network
 * (network namespaces, see support/netns.ts), and an agent whose wall clock is hours off. Each
 * test pulls one plug on the real hub, agent and Chromium and reads what both ends report.
 */
import { existsSync, readdirSync } from "node:fs";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, test, type Page } from "@playwright/test";
import { Managed, startAgent, startHub, type HubProcess, type LogLine } from "./support/processes.js";
import { canUseNetns, Netns } from "./support/netns.js";
import { handle, openPlayer, videoStats, waitForState } from "./support/player.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

const hubs: HubProcess[] = [];
const agents: Managed[] = [];
let netns: Netns | undefined;

test.afterEach(async () => {
  // Agents first (they would otherwise log reconnect attempts), then hubs, then the network,
  // which goes whatever happened before.
  try {
    for (const agent of agents.splice(0)) await agent.stop();
    for (const hub of hubs.splice(0)) await hub.stop();
  } finally {
    netns?.destroy();
    netns = undefined;
  }
});

async function hub(args: string[] = []): Promise<HubProcess> {
  const started = await startHub(args);
  hubs.push(started);
  return started;
}

async function agent(hubUrl: string, streamerId: string, args: string[] = []): Promise<Managed> {
  const started = await startAgent(hubUrl, streamerId, args);
  agents.push(started);
  return started;
}

const closedLines = (logs: LogLine[], sessionId?: string | null): LogLine[] =>
  logs.filter((l) => l.msg === "session closed" && (sessionId === undefined || l.sessionId === sessionId));

/** pino's `time` (epoch ms, the writer's wall clock). */
const timeOf = (line: LogLine): number => line.time as number;

/** Waits until the player's decoder has moved past `frames` frames of its current connection. */
async function framesBeyond(page: Page, frames: number, timeoutMs: number): Promise<void> {
  await expect
    .poll(async () => (await videoStats(page)).framesDecoded, { timeout: timeoutMs, intervals: [100] })
    .toBeGreaterThan(frames);
}

test("a SIGKILLed agent ends its sessions as streamer-left within 1 s, on the hub and in the player", async ({
  page,
}) => {
  // Resume off: a dropped socket is final at once. (With resume on, the same ending comes
  // resumeGraceMs later; a killed process's socket closes at once either way.)
  const h = await hub(["--heartbeat-interval-ms", "1000", "--heartbeat-resume-grace-ms", "0"]);
  const a = await agent(h.url, "cam-kill");
  await openPlayer(page, h.url, "cam-kill");
  await waitForState(page, "live");
  const { sessionId } = await handle(page);

  const killedAt = Date.now();
  a.signal("SIGKILL");
  await page.waitForFunction(() => window.heartline?.state === "ended", undefined, { timeout: 5000 });
  const playerSawItAt = Date.now();
  const closed = await h.waitForLog(
    (l) => l.msg === "session closed" && l.sessionId === sessionId,
    5000,
    "'session closed'",
  );
  expect(closed.reason).toBe("streamer-left");
  expect(timeOf(closed) - killedAt).toBeLessThan(1000);
  expect(playerSawItAt - killedAt).toBeLessThan(1500);
  expect((await handle(page)).closeReason).toBe("streamer-left");
  // Exactly one ending, and not a heartbeat timeout (that would take 3 s here).
  expect(closedLines(h.logs, sessionId)).toHaveLength(1);
  test.info().annotations.push({
    type: "timing",
    description: `hub closed the session ${timeOf(closed) - killedAt} ms after SIGKILL; player showed it after ${playerSawItAt - killedAt} ms`,
  });
});

test("after a hub restart on the same port, agent and player reconnect by themselves into one new session", async ({
  page,
}) => {
  const first = await hub();
  const port = new URL(first.url).port;
  const a = await agent(first.url, "cam-restart");
  await openPlayer(page, first.url, "cam-restart");
  await waitForState(page, "live");
  const { sessionId: oldSession } = await handle(page);
  await framesBeyond(page, 10, 20_000);

  const killedAt = Date.now();
  first.signal("SIGKILL"); // no goodbye to anyone: sockets just close
  await new Promise<void>((resolve) => {
    if (first.child.exitCode !== null || first.child.signalCode !== null) resolve();
    else
      first.child.once("exit", () => {
        resolve();
      });
  });
  const second = await hub(["--port", port]);
  expect(second.url).toBe(first.url);
  const listening = second.logs.find((l) => l.playerUrl !== undefined);
  const listeningAt = listening ? timeOf(listening) : Date.now();

  await page.waitForFunction(
    (old) => window.heartline?.state === "live" && window.heartline.sessionId !== old,
    oldSession,
    { timeout: 20_000, polling: 100 },
  );
  const liveAt = Date.now();
  await framesBeyond(page, 0, 20_000);
  const framesAt = Date.now();
  const { sessionId: newSession } = await handle(page);
  const registered = second.logs.find((l) => l.msg === "streamer registered");
  const registeredAt = registered ? timeOf(registered) : Number.NaN;
  test.info().annotations.push({
    type: "timing",
    description:
      `hub down ${listeningAt - killedAt} ms; new hub listening -> agent registered ${registeredAt - listeningAt} ms, ` +
      `player live ${liveAt - listeningAt} ms, frames decoding ${framesAt - listeningAt} ms`,
  });
  // Both reconnect on backoff schedules (agent from 0.5 s, player from 1 s, doubling): a hub
  // slow to come back pushes their next attempt, and this bound, out.
  expect(framesAt - listeningAt, `the hub was down ${listeningAt - killedAt} ms`).toBeLessThan(5000);

  // The old session ends on the agent exactly once (the new hub cannot resume it), the new
  // hub knows exactly one session and one streamer: no ghosts.
  const oldClosed = await a.waitForLog(
    (l) => l.msg === "session closed" && l.sessionId === oldSession,
    20_000,
    "the old session's 'session closed'",
  );
  await page.waitForTimeout(1000); // room for a duplicate to show up
  expect(closedLines(a.logs, oldSession)).toHaveLength(1);
  expect(oldClosed.reason).toBe("streamer-left");
  expect(closedLines(a.logs, newSession ?? "")).toHaveLength(0);
  const started = second.logs.filter((l) => l.msg === "session started");
  expect(started.map((l) => l.sessionId)).toEqual([newSession]);
  expect(closedLines(second.logs)).toHaveLength(0);
  expect(second.logs.filter((l) => l.msg === "streamer registered")).toHaveLength(1);
  expect((await handle(page)).sessionId).toBe(newSession);
});

/** libfaketime, preloaded the way `faketime -f` does it, so the pid stays the agent's own. */
function libfaketime(): string | undefined {
  for (const dir of ["/usr/lib", ...readdirSync("/usr/lib").map((d) => `/usr/lib/${d}`)]) {
    const lib = `${dir}/faketime/libfaketime.so.1`;
    if (existsSync(lib)) return lib;
  }
  return undefined;
}

test("an agent whose clock is 2 hours ahead streams and beats normally", async ({ page }) => {
  const lib = libfaketime();
  // Skipped only where libfaketime is missing; setup.mjs installs it, so CI always runs this.
  test.skip(lib === undefined, "faketime is not installed (node scripts/setup.mjs --browser)");
  const intervalMs = 500;
  const h = await hub(["--heartbeat-interval-ms", String(intervalMs), "--heartbeat-missed-beats", "2"]);
  // The same environment `faketime -f '+2h' node …` sets up (faketime itself forks, and a
  // signal to it would not reach node); ffmpeg inherits it too.
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "streamer-agent/src/cli.ts",
      "--hub",
      h.url,
      "--id",
      "cam-skew",
      "--loopback-only",
      "true",
    ],
    {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, FORCE_COLOR: "0", LD_PRELOAD: lib, FAKETIME: "+2h", FAKETIME_NO_CACHE: "1" },
    },
  );
  const a = new Managed("agent", child);
  agents.push(a);
  const registered = await a.waitForLog((l) => l.msg === "registered", 20_000, "'registered'");
  // The skew is real: the agent's own log lines are stamped two hours ahead.
  const skewMs = timeOf(registered) - Date.now();
  expect(skewMs).toBeGreaterThan(2 * 3600_000 - 60_000);
  expect(skewMs).toBeLessThan(2 * 3600_000 + 60_000);

  await openPlayer(page, h.url, "cam-skew");
  await waitForState(page, "live");
  const { sessionId } = await handle(page);
  await framesBeyond(page, 10, 20_000);
  const before = await handle(page);
  await page.waitForTimeout(4000);
  const after = await handle(page);

  // Eight intervals at 500 ms: pings keep coming, the session is the same, nothing lapsed.
  expect(after.pingsReceived - before.pingsReceived).toBeGreaterThanOrEqual(6);
  expect(after.mediaPingsReceived - before.mediaPingsReceived).toBeGreaterThanOrEqual(6);
  expect(after.state).toBe("live");
  expect(after.sessionId).toBe(sessionId);
  expect(closedLines(h.logs)).toHaveLength(0);
  expect(closedLines(a.logs)).toHaveLength(0);
  // RTTs are the agent's own monotonic differences: loopback-small, not hours.
  expect(after.heartbeatRttMs).not.toBeNull();
  expect(after.heartbeatRttMs ?? -1).toBeGreaterThanOrEqual(0);
  expect(after.heartbeatRttMs ?? Infinity).toBeLessThan(500);
  expect(after.mediaRttMs).not.toBeNull();
  expect(after.mediaRttMs ?? -1).toBeGreaterThanOrEqual(0);
  expect(after.mediaRttMs ?? Infinity).toBeLessThan(500);
  test.info().annotations.push({
    type: "rtt",
    description: `skew ${Math.round(skewMs / 1000)} s; heartbeat RTT ${after.heartbeatRttMs} ms, media RTT ${after.mediaRttMs} ms`,
  });
});

test.describe("across a network namespace", () => {
  // Namespaces, qdiscs and nftables need root; CI runs as root with them installed by setup.mjs,
  // so these run there. A developer without root gets a skip with the reason, not a failure.
  test.skip(!canUseNetns(), "needs root with ip, tc and nft (node scripts/setup.mjs --browser)");

  test("a partition is detected within timeoutMs + 0.5 s, and after healing the agent registers again", async ({
    page,
  }) => {
    const intervalMs = 500;
    const timeoutMs = intervalMs * 2;
    netns = new Netns("heartline-partition", 1); // assigned first: afterEach cleans up even a half-made link
    netns.create();
    // The hub listens on the host end of the link (not 0.0.0.0: nothing leaves the machine);
    // Chromium on the host reaches it, and the agent's media, through the same addresses.
    const h = await hub([
      "--host",
      netns.hostAddress,
      "--heartbeat-interval-ms",
      String(intervalMs),
      "--heartbeat-missed-beats",
      "2",
    ]);
    const a = await netns.startAgent(h.url, "cam-partition");
    agents.push(a);
    await openPlayer(page, h.url, "cam-partition");
    await waitForState(page, "live");
    const { sessionId } = await handle(page);
    await framesBeyond(page, 10, 20_000); // the media crosses the link too

    const cutAt = Date.now();
    netns.partition();
    const closed = await h.waitForLog(
      (l) => l.msg === "session closed" && l.sessionId === sessionId,
      timeoutMs + 5000,
      "'session closed'",
    );
    const detectedMs = timeOf(closed) - cutAt;
    test.info().annotations.push({
      type: "timing",
      description: `partition -> hub closed the session (${String(closed.reason)}) after ${detectedMs} ms (timeout ${timeoutMs} ms)`,
    });
    // The agent's socket stays open (its packets just vanish), so a heartbeat notices, not a
    // disconnect: the hub's own signaling deadline, or the player's media heartbeat (the same
    // timeout on the data channel, which crosses the same link), whichever fires first.
    expect(["streamer-heartbeat-timeout", "media-timeout"]).toContain(closed.reason);
    expect(detectedMs).toBeLessThan(timeoutMs + 500);
    await page.waitForFunction(() => window.heartline?.state !== "live", undefined, { timeout: 5000 });

    // While cut off, the hub drops the silent socket and forgets the streamer.
    await h.waitForLog((l) => l.msg === "streamer left" && l.streamerId === "cam-partition", 10_000);
    const registeredBefore = a.logs.filter((l) => l.msg === "registered").length;
    netns.heal();
    const healedAt = Date.now();
    await expect
      .poll(() => a.logs.filter((l) => l.msg === "registered").length, { timeout: 20_000, intervals: [100] })
      .toBeGreaterThan(registeredBefore);
    const reRegisteredMs = Date.now() - healedAt;
    await page.waitForFunction(
      (old) => window.heartline?.state === "live" && window.heartline.sessionId !== old,
      sessionId,
      { timeout: 30_000 },
    );
    await framesBeyond(page, 0, 20_000);
    // The agent ended the old session once, whichever way it learnt of it.
    expect(closedLines(a.logs, sessionId)).toHaveLength(1);
    test.info().annotations.push({
      type: "timing",
      description: `healed -> agent registered again after ${reRegisteredMs} ms`,
    });
  });

  test("20 % packet loss both ways for 60 s tears nothing down with the default heartbeat", async ({
    page,
  }) => {
    test.setTimeout(150_000);
    netns = new Netns("heartline-loss", 2); // assigned first: afterEach cleans up even a half-made link
    netns.create();
    const h = await hub(["--host", netns.hostAddress]); // default heartbeat: 5 s x 3
    const a = await netns.startAgent(h.url, "cam-loss");
    agents.push(a);
    await openPlayer(page, h.url, "cam-loss");
    await waitForState(page, "live");
    const { sessionId, config } = await handle(page);
    expect(config?.heartbeat.intervalMs).toBe(5000);
    expect(config?.heartbeat.timeoutMs).toBe(15_000);

    netns.loss(20);
    const start = await handle(page);
    const framesBefore = (await videoStats(page)).framesDecoded;
    const states: string[] = [];
    const until = Date.now() + 60_000;
    while (Date.now() < until) {
      await page.waitForTimeout(1000);
      const now = await handle(page);
      states.push(now.state);
      // Fail at once rather than after a minute.
      expect(now.sessionId).toBe(sessionId);
      expect(closedLines(h.logs)).toHaveLength(0);
    }
    const dropped = netns.dropped();
    const end = await handle(page);
    const framesAfter = (await videoStats(page)).framesDecoded;
    const staleLines = h.logs.filter((l) => l.msg === "session state" && l.state === "stale").length;
    test.info().annotations.push({
      type: "loss",
      description:
        `dropped ${dropped.host} packets host side, ${dropped.ns} namespace side; ` +
        `${end.pingsReceived - start.pingsReceived} pings in 60 s; stale announcements: ${staleLines}; ` +
        `frames decoded during the loss: ${framesAfter - framesBefore}; player states seen: ${[...new Set(states)].join(",")}`,
    });
    // The loss was real, in both directions.
    expect(dropped.host).toBeGreaterThan(50);
    expect(dropped.ns).toBeGreaterThan(50);
    // Nothing ended: same session, no close anywhere, pings kept making it through.
    expect(end.sessionId).toBe(sessionId);
    expect(closedLines(h.logs)).toHaveLength(0);
    expect(closedLines(a.logs)).toHaveLength(0);
    expect(end.pingsReceived - start.pingsReceived).toBeGreaterThanOrEqual(8);
    expect(end.state).not.toBe("ended");
  });
});
