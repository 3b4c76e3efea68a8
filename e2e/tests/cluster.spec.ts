/**
 * Multi-node: two hub processes sharing a real redis-server (Debian's, on a loopback port), the
 * real agent streaming to hub A and Chromium watching through hub B. Then the plugs: hub A
 * killed, Redis killed and restarted.
 */
import { RedisServer } from "@heartline/shared/testing";
import { expect, test } from "./support/fixtures.js";
import type { Processes } from "./support/fixtures.js";
import { handle, openPlayer, videoStats, waitForState } from "./support/player.js";
import type { HubProcess, LogLine } from "./support/processes.js";
import type { Page } from "@playwright/test";

const INTERVAL_MS = 1000;
const MISSED = 3;
const TIMEOUT_MS = INTERVAL_MS * MISSED;

let redis: RedisServer | undefined;
test.afterEach(async () => {
  await redis?.stop();
  redis = undefined;
});

/** A hub that joins the cluster on `redisUrl` as `nodeId`. */
function clusterHub(
  procs: Processes,
  redisUrl: string,
  nodeId: string,
  args: string[] = [],
): Promise<HubProcess> {
  return procs.hub([
    "--heartbeat-interval-ms",
    String(INTERVAL_MS),
    "--heartbeat-missed-beats",
    String(MISSED),
    "--cluster-redis-url",
    redisUrl,
    "--cluster-node-id",
    nodeId,
    // Every node of one cluster signs its messages with the same secret.
    "--cluster-secret",
    "e2e-cluster-secret-0123456789abcdef",
    ...args,
  ]);
}

async function framesBeyond(page: Page, frames: number, timeoutMs = 20_000): Promise<void> {
  await expect
    .poll(async () => (await videoStats(page)).framesDecoded, { timeout: timeoutMs, intervals: [100] })
    .toBeGreaterThan(frames);
}

const sessionLine = (logs: LogLine[], msg: string, sessionId: string | null): LogLine | undefined =>
  logs.find((l) => l.msg === msg && l.sessionId === sessionId);

test("a player on hub B shows live video from an agent on hub A", async ({ page, procs }, testInfo) => {
  redis = await RedisServer.start();
  const a = await clusterHub(procs, redis.url, "a");
  const b = await clusterHub(procs, redis.url, "b");
  await procs.agent(a.url, "cam-across");
  await openPlayer(page, b.url, "cam-across");
  await waitForState(page, "live");
  await framesBeyond(page, 30);
  const { sessionId, pingsReceived } = await handle(page);
  expect(pingsReceived).toBeGreaterThan(0);
  // The session spans both nodes: B holds the player, A the streamer.
  expect(sessionLine(b.logs, "session started", sessionId)).toMatchObject({ remoteNode: "a" });
  expect(sessionLine(a.logs, "session started", sessionId)).toMatchObject({ remoteNode: "b" });
  await page.screenshot({ path: testInfo.outputPath("cross-node-player.png") });
});

test("a hung agent on hub A (SIGSTOP) ends the session in the player on hub B as a streamer heartbeat timeout", async ({
  page,
  procs,
}) => {
  redis = await RedisServer.start();
  const a = await clusterHub(procs, redis.url, "a");
  const b = await clusterHub(procs, redis.url, "b");
  const agent = await procs.agent(a.url, "cam-hung");
  await openPlayer(page, b.url, "cam-hung");
  await waitForState(page, "live");
  const { sessionId } = await handle(page);

  agent.signal("SIGSTOP"); // its socket stays open: only the heartbeat can notice
  await page.waitForFunction(() => window.heartline?.state === "ended", undefined, {
    timeout: TIMEOUT_MS + 5000,
  });
  const silentFor = await page.evaluate(() => performance.now() - (window.heartline?.lastPingAt ?? 0));
  expect((await handle(page)).closeReason).toBe("streamer-heartbeat-timeout");
  expect(silentFor).toBeLessThan(TIMEOUT_MS + 1000);
  // Hub A, which holds the streamer, decided; hub B passed the reason on.
  const decided = await a.waitForLog((l) => l.msg === "session closed" && l.sessionId === sessionId);
  expect(decided.reason).toBe("streamer-heartbeat-timeout");
  expect(sessionLine(b.logs, "session closed", sessionId)).toMatchObject({
    reason: "streamer-heartbeat-timeout",
  });
  agent.signal("SIGCONT");
});

test("killing hub A ends the session in the player with hub-link-lost within the heartbeat timeout, and it recovers", async ({
  page,
  procs,
}) => {
  redis = await RedisServer.start();
  const a = await clusterHub(procs, redis.url, "a");
  const port = new URL(a.url).port;
  const b = await clusterHub(procs, redis.url, "b");
  await procs.agent(a.url, "cam-node-kill");
  await openPlayer(page, b.url, "cam-node-kill");
  await waitForState(page, "live");
  await framesBeyond(page, 10);
  const { sessionId: oldSession } = await handle(page);

  const killedAt = Date.now();
  a.signal("SIGKILL");
  await page.waitForFunction(() => window.heartline?.closeReason === "hub-link-lost", undefined, {
    timeout: 3 * TIMEOUT_MS,
    polling: 50,
  });
  const sawItAfter = Date.now() - killedAt;
  // The viewer is told what happened in plain words.
  await expect(page.locator("#reason")).toContainText(/lost its link to the hub that serves this stream/i);
  await page.screenshot({ path: test.info().outputPath("player-hub-link-lost.png") });
  const closed = sessionLine(b.logs, "session closed", oldSession);
  expect(closed).toMatchObject({ reason: "hub-link-lost", remoteNode: "a" });
  // A's last beat came at most half an interval before the kill, so B decides within the
  // timeout of the kill; the slack is delivery to the page on a loaded two-core box.
  expect(sawItAfter).toBeLessThan(TIMEOUT_MS + 1500);
  test.info().annotations.push({
    type: "timing",
    description: `player saw hub-link-lost ${sawItAfter} ms after the kill`,
  });

  // A new hub on A's port (a new node): the agent reconnects to it, B lists the streamer again,
  // and the player watches it again without anyone touching it.
  await clusterHub(procs, redis.url, "a2", ["--port", port]);
  await page.waitForFunction(
    (old) => window.heartline?.state === "live" && window.heartline.sessionId !== old,
    oldSession,
    { timeout: 30_000, polling: 100 },
  );
  await framesBeyond(page, 10);
});

test("a Redis outage ends cross-node sessions only; same-node video plays on; all recovers when Redis returns", async ({
  page,
  context,
  procs,
}) => {
  redis = await RedisServer.start();
  const a = await clusterHub(procs, redis.url, "a");
  const b = await clusterHub(procs, redis.url, "b");
  await procs.agent(a.url, "cam-outage");
  // One viewer on the streamer's own hub, one on the other hub.
  const near = await context.newPage();
  await openPlayer(near, a.url, "cam-outage");
  await openPlayer(page, b.url, "cam-outage");
  await waitForState(near, "live");
  await waitForState(page, "live");
  const { sessionId: nearSession } = await handle(near);
  const { sessionId: farSession } = await handle(page);

  await redis.kill();
  const killedAt = Date.now();
  await page.waitForFunction(() => window.heartline?.closeReason === "hub-link-lost", undefined, {
    timeout: 3 * TIMEOUT_MS,
    polling: 50,
  });
  const endedAfter = Date.now() - killedAt;
  expect(sessionLine(b.logs, "session closed", farSession)).toMatchObject({ reason: "hub-link-lost" });
  // The same-node viewer keeps decoding through the outage, in the same session.
  const before = (await videoStats(near)).framesDecoded;
  await framesBeyond(near, before + 30);
  expect(await handle(near)).toMatchObject({ state: "live", sessionId: nearSession });
  const readyz = await fetch(`${a.url}/readyz`);
  expect(readyz.status).toBe(503);
  expect(await readyz.json()).toMatchObject({ status: "degraded" });

  await redis.restart();
  const restartedAt = Date.now();
  await page.waitForFunction(
    (old) => window.heartline?.state === "live" && window.heartline.sessionId !== old,
    farSession,
    { timeout: 30_000, polling: 100 },
  );
  await framesBeyond(page, 10);
  test.info().annotations.push({
    type: "timing",
    description: `far viewer ended ${endedAfter} ms after Redis died; live again ${Date.now() - restartedAt} ms after it returned`,
  });
  expect((await fetch(`${a.url}/readyz`)).status).toBe(200);
  expect(await handle(near)).toMatchObject({ state: "live", sessionId: nearSession });
  // The same-node session never ended.
  expect(sessionLine(a.logs, "session closed", nearSession)).toBeUndefined();
});
