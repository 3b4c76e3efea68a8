/**
 * The vertical slice as a person meets it: the real agent streams, the real hub relays, Debian's
 * chromium plays; then we pull plugs and watch both ends say why the session ended.
 */
import { expect, test } from "./support/fixtures.js";
import { handle, presentsFrames, videoLuminanceSpread, videoStats } from "./support/player.js";

test("the player shows live video from the agent", async ({ page, procs }, testInfo) => {
  await procs.watch(page, "cam-live");

  await expect
    .poll(async () => (await videoStats(page)).framesDecoded, { timeout: 20_000 })
    .toBeGreaterThan(10);
  const before = (await videoStats(page)).framesDecoded;
  await page.waitForTimeout(1000);
  const after = await videoStats(page);
  expect(after.framesDecoded).toBeGreaterThan(before);
  expect(after.frameWidth).toBe(640);
  expect(after.codec).toBe("video/VP8");
  expect(await presentsFrames(page)).toBe(true);
  expect(await videoLuminanceSpread(page)).toBeGreaterThan(20);

  const screenshot = testInfo.outputPath("player-live.png");
  await page.screenshot({ path: screenshot });
  await testInfo.attach("player-live", { path: screenshot, contentType: "image/png" });
  await expect(page.locator("#state")).toContainText(/live/i);
});

test("the agent pings at the interval set in the hub's config", async ({ page, procs }) => {
  await procs.watch(page, "cam-cadence", ["--heartbeat-interval-ms", "250"]);
  expect((await handle(page)).config?.heartbeat.intervalMs).toBe(250);

  const start = (await handle(page)).pingsReceived;
  await page.waitForTimeout(4000);
  const received = (await handle(page)).pingsReceived - start;
  // 16 pings at 250 ms; the default interval (5000 ms) would give 0 or 1.
  expect(received).toBeGreaterThanOrEqual(10);
  expect(received).toBeLessThanOrEqual(22);
});

test("a hung agent (SIGSTOP) ends the session as a streamer heartbeat timeout, and the player recovers", async ({
  page,
  procs,
}, testInfo) => {
  const intervalMs = 500;
  const timeoutMs = intervalMs * 2;
  const { hub, agent } = await procs.watch(page, "cam-stop", [
    "--heartbeat-interval-ms",
    String(intervalMs),
    "--heartbeat-missed-beats",
    "2",
  ]);
  const { sessionId } = await handle(page);

  agent.signal("SIGSTOP"); // the socket stays open; only the heartbeat can notice
  await page.waitForFunction(() => window.heartline?.state === "ended", undefined, {
    timeout: timeoutMs + 5000,
  });
  const silentFor = await page.evaluate(() => performance.now() - (window.heartline?.lastPingAt ?? 0));
  const ended = await handle(page);
  expect(ended.closeReason).toBe("streamer-heartbeat-timeout");
  expect(silentFor).toBeLessThan(timeoutMs + 1000);
  await expect(page.locator("#reason")).toContainText(/streamer stopped responding/i);
  await hub.waitForLog(
    (l) =>
      l.msg === "session closed" && l.sessionId === sessionId && l.reason === "streamer-heartbeat-timeout",
  );
  const screenshot = testInfo.outputPath("player-streamer-timeout.png");
  await page.screenshot({ path: screenshot });
  await testInfo.attach("player-streamer-timeout", { path: screenshot, contentType: "image/png" });

  agent.signal("SIGCONT");
  await agent.waitForLog((l) => l.msg === "session closed" && l.sessionId === sessionId);
  // The streamer is still registered; the player subscribes again on its own.
  await page.waitForFunction(
    (old) => window.heartline?.state === "live" && window.heartline.sessionId !== old,
    sessionId,
    {
      timeout: 30_000,
    },
  );
  await expect
    .poll(async () => (await videoStats(page)).framesDecoded, { timeout: 20_000 })
    .toBeGreaterThan(5);
});

test("a frozen page (debugger paused) makes the agent close that peer connection as a player heartbeat timeout", async ({
  page,
  procs,
}) => {
  const intervalMs = 500;
  const { hub, agent } = await procs.watch(page, "cam-freeze", [
    "--heartbeat-interval-ms",
    String(intervalMs),
    "--heartbeat-missed-beats",
    "2",
  ]);
  const { sessionId } = await handle(page);

  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Debugger.enable");
  await cdp.send("Debugger.pause"); // the page's JavaScript stops; its socket stays open
  const closed = await agent.waitForLog(
    (l) => l.msg === "session closed" && l.sessionId === sessionId,
    10_000,
  );
  expect(closed.reason).toBe("player-heartbeat-timeout");
  await hub.waitForLog(
    (l) => l.msg === "session closed" && l.sessionId === sessionId && l.reason === "player-heartbeat-timeout",
  );
  await cdp.send("Debugger.resume");

  // Once running again, the page learns why and starts over with a new session.
  await page.waitForFunction(
    (old) => window.heartline?.sessionId !== old && window.heartline?.state === "live",
    sessionId,
    { timeout: 30_000 },
  );
});
