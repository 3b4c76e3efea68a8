/**
 * The heartbeat engine as a viewer meets it: a blip makes the link "degraded" but never ends a
 * healthy stream, a signaling outage shorter than the grace period does not stop the video,
 * both RTTs show, and the operator changes the interval live.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "./support/fixtures.js";
import { installHiddenTabEmulation, setTabHidden } from "./support/hidden-tab.js";
import { handle, openPlayer, videoStats, waitForState } from "./support/player.js";

test("a short hang of the agent shows 'link degraded', then live again, without ending the session", async ({
  page,
  procs,
}, testInfo) => {
  const { hub, agent } = await procs.watch(page, "cam-blip", [
    "--heartbeat-interval-ms",
    "400",
    "--heartbeat-missed-beats",
    "5",
  ]);
  await expect
    .poll(async () => (await videoStats(page)).framesDecoded, { timeout: 20_000 })
    .toBeGreaterThan(10);
  const { sessionId } = await handle(page);

  agent.signal("SIGSTOP"); // 1.2 s: past a missed beat (600 ms), well short of the 2 s timeout
  await waitForState(page, "stale", 5000);
  await expect(page.locator("#state")).toContainText(/degraded/i);
  const screenshot = testInfo.outputPath("player-degraded.png");
  await page.screenshot({ path: screenshot });
  await testInfo.attach("player-degraded", { path: screenshot, contentType: "image/png" });
  await page.waitForTimeout(600);
  agent.signal("SIGCONT");

  await waitForState(page, "live", 5000);
  expect((await handle(page)).sessionId).toBe(sessionId);
  await hub.waitForLog((l) => l.msg === "session state" && l.sessionId === sessionId && l.state === "live");
  expect(hub.logs.filter((l) => l.msg === "session closed")).toEqual([]);
});

test("the video keeps playing through a signaling outage shorter than the grace period, same session after", async ({
  page,
  context,
  procs,
}) => {
  const { hub, agent } = await procs.watch(page, "cam-resume", [
    "--heartbeat-interval-ms",
    "500",
    "--heartbeat-missed-beats",
    "3",
    "--heartbeat-resume-grace-ms",
    "8000",
  ]);
  await expect
    .poll(async () => (await videoStats(page)).framesDecoded, { timeout: 20_000 })
    .toBeGreaterThan(10);
  const { sessionId } = await handle(page);

  await context.setOffline(true); // closes the page's WebSocket; the media path is untouched
  await hub.waitForLog((l) => l.msg === "peer away" && l.role === "player");
  const during = (await videoStats(page)).framesDecoded;
  await page.waitForTimeout(3000); // longer than the heartbeat timeout (1.5 s), shorter than the grace
  const later = (await videoStats(page)).framesDecoded;
  expect(later).toBeGreaterThan(during + 30); // ~90 frames at 30 fps; the video never stopped
  await context.setOffline(false);

  await hub.waitForLog((l) => l.msg === "peer resumed" && l.role === "player", 15_000);
  await waitForState(page, "live", 15_000);
  const after = await handle(page);
  expect(after.sessionId).toBe(sessionId);
  expect(after.resumes).toBe(1);
  // Same session, no renegotiation: one join, no ending, on the agent's side.
  expect(agent.logs.filter((l) => l.msg === "player joined")).toHaveLength(1);
  expect(agent.logs.filter((l) => l.msg === "session closed")).toEqual([]);
  const pingsBefore = after.pingsReceived;
  await expect
    .poll(async () => (await handle(page)).pingsReceived, { timeout: 5000 })
    .toBeGreaterThan(pingsBefore);
});

test("past the grace period the session ends as player-left, and the player starts a new one when back", async ({
  page,
  context,
  procs,
}) => {
  const { agent } = await procs.watch(page, "cam-grace", [
    "--heartbeat-interval-ms",
    "300",
    "--heartbeat-missed-beats",
    "3",
    "--heartbeat-resume-grace-ms",
    "1000",
  ]);
  const { sessionId } = await handle(page);

  await context.setOffline(true);
  const closed = await agent.waitForLog(
    (l) => l.msg === "session closed" && l.sessionId === sessionId,
    10_000,
  );
  expect(closed.reason).toBe("player-left");
  await context.setOffline(false);
  await page.waitForFunction(
    (old) => window.heartline?.state === "live" && window.heartline.sessionId !== old,
    sessionId,
    {
      timeout: 30_000,
    },
  );
});

test("the overlay shows the heartbeat RTT and the media-path RTT as the agent measured them", async ({
  page,
  procs,
}, testInfo) => {
  await procs.watch(page, "cam-rtt", ["--heartbeat-interval-ms", "300"]);
  await expect
    .poll(async () => (await videoStats(page)).framesDecoded, { timeout: 20_000 })
    .toBeGreaterThan(10);
  await expect
    .poll(async () => (await handle(page)).mediaPingsReceived, { timeout: 15_000 })
    .toBeGreaterThan(2);
  await expect.poll(async () => (await handle(page)).mediaRttMs, { timeout: 15_000 }).not.toBeNull();
  await expect.poll(async () => (await handle(page)).heartbeatRttMs, { timeout: 15_000 }).not.toBeNull();
  await page.keyboard.press("s"); // the stats panel holds both RTTs
  await expect(page.locator("#heartbeat-rtt")).toBeVisible();
  await expect(page.locator("#heartbeat-rtt")).toHaveText(/\d+(\.\d+)? ms/);
  await expect(page.locator("#media-rtt")).toHaveText(/\d+(\.\d+)? ms/);
  const screenshot = testInfo.outputPath("player-rtts.png");
  await page.screenshot({ path: screenshot });
  await testInfo.attach("player-rtts", { path: screenshot, contentType: "image/png" });
});

test("editing the interval in the hub's config file changes the agent's ping cadence without a restart", async ({
  page,
  procs,
}) => {
  const dir = mkdtempSync(join(tmpdir(), "heartline-e2e-"));
  const file = join(dir, "heartline.config.json");
  writeFileSync(file, JSON.stringify({ heartbeat: { intervalMs: 2000, missedBeats: 3 } }));
  const { hub } = await procs.watch(page, "cam-live-config", ["--config", file]);

  const countPings = async (ms: number): Promise<number> => {
    const start = (await handle(page)).pingsReceived;
    await page.waitForTimeout(ms);
    return (await handle(page)).pingsReceived - start;
  };
  const slow = await countPings(3000); // every 2 s: 1 or 2

  writeFileSync(file, JSON.stringify({ heartbeat: { intervalMs: 200, missedBeats: 3 } }));
  await hub.waitForLog((l) => l.msg === "config reloaded");
  await expect
    .poll(async () => (await handle(page)).config?.heartbeat.intervalMs, { timeout: 5000 })
    .toBe(200);
  const fast = await countPings(3000); // every 200 ms: ~15

  expect(slow).toBeLessThanOrEqual(3);
  expect(fast).toBeGreaterThanOrEqual(8);

  writeFileSync(file, JSON.stringify({ heartbeat: { intervalMs: -1 } }));
  await hub.waitForLog((l) => l.msg === "config change rejected; the running config stays");
  expect((await handle(page)).config?.heartbeat.intervalMs).toBe(200);
});

test("closing the player's tab ends its session at once as player-left, not after the resume grace", async ({
  context,
  procs,
}) => {
  // A long grace period, so a lost goodbye would show as a 20 s wait.
  const hub = await procs.hub(["--heartbeat-resume-grace-ms", "20000"]);
  const agent = await procs.agent(hub.url, "cam-close");
  const page = await context.newPage();
  await openPlayer(page, hub.url, "cam-close");
  await waitForState(page, "live");
  const { sessionId } = await handle(page);

  await page.close();
  const closed = await agent.waitForLog((l) => l.msg === "session closed" && l.sessionId === sessionId, 5000);
  expect(closed.reason).toBe("player-left");
});

test("a background tab keeps its session: pongs come from message handlers, not throttled timers", async ({
  page,
  procs,
}) => {
  await installHiddenTabEmulation(page);
  const { hub, agent } = await procs.watch(page, "cam-hidden", [
    "--heartbeat-interval-ms",
    "300",
    "--heartbeat-missed-beats",
    "3",
  ]);
  await expect
    .poll(async () => (await handle(page)).mediaPingsReceived, { timeout: 15_000 })
    .toBeGreaterThan(1);
  const { sessionId } = await handle(page);

  await setTabHidden(page, true);
  expect(await page.evaluate(() => document.visibilityState)).toBe("hidden");
  const before = await handle(page);
  await page.waitForTimeout(5000); // 16 beats; every timer in the page now fires once a minute at most
  const after = await handle(page);
  await setTabHidden(page, false);

  expect(after.sessionId).toBe(sessionId);
  expect(after.pingsReceived - before.pingsReceived).toBeGreaterThanOrEqual(10);
  expect(after.mediaPingsReceived - before.mediaPingsReceived).toBeGreaterThanOrEqual(10);
  // The agent measured prompt answers throughout (a timer-sent pong would take up to a minute).
  expect(after.heartbeatRttMs).not.toBeNull();
  expect(after.heartbeatRttMs ?? Infinity).toBeLessThan(250);
  expect(hub.logs.filter((l) => l.msg === "session closed")).toEqual([]);
  // The hidden player was never late. (At a 300 ms beat a busy box can make the agent late
  // once; that is the streamer's timeliness, not what this test is about.)
  expect(
    hub.logs.filter((l) => l.msg === "session state" && l.state === "stale" && l.late === "player"),
  ).toEqual([]);
  expect(agent.logs.filter((l) => l.msg === "session closed")).toEqual([]);
});
