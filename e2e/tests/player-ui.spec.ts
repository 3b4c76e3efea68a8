/**
 * The player as a viewer sees it: one test per state, each checking the words on screen and
 * attaching a screenshot (look at them: `test-results/e2e/<test>/<state>.png`).
 */
import { createServer } from "node:net";
import { expect, test, type Page, type TestInfo } from "@playwright/test";
import { startAgent, startHub, type HubProcess, type Managed } from "./support/processes.js";
import { openPlayer, waitForState } from "./support/player.js";

/** Hubs here run open: the point is the player's screens, not access control. */
const OPEN = ["--auth-open", "true"];
/** A short heartbeat, so RTT figures show up within a second or two. */
const FAST_HEARTBEAT = ["--heartbeat-interval-ms", "500"];

let hub: HubProcess | undefined;
let agents: Managed[] = [];

test.afterEach(async () => {
  for (const agent of agents) await agent.stop();
  await hub?.stop();
  agents = [];
  hub = undefined;
});

async function snap(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const path = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path });
  await testInfo.attach(name, { path, contentType: "image/png" });
}

/** A field of `window.heartline` that support/player.ts does not type (added for these tests). */
function debugField(page: Page, field: string): Promise<unknown> {
  return page.evaluate(
    (key) => (window.heartline as unknown as Record<string, unknown> | undefined)?.[key],
    field,
  );
}

/** A TCP port free right now, so a hub can be restarted where the player expects it. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address === null || typeof address === "string") reject(new Error("no port"));
        else resolve(address.port);
      });
    });
  });
}

async function agent(streamerId: string, args: string[] = []): Promise<Managed> {
  if (hub === undefined) throw new Error("start the hub first");
  const started = await startAgent(hub.url, streamerId, args);
  agents.push(started);
  return started;
}

test("waiting: no streamer is live", async ({ page }, testInfo) => {
  hub = await startHub(OPEN);
  await page.goto(`${hub.url}/`);
  await waitForState(page, "waiting");
  await expect(page.locator("#state")).toHaveText("Waiting for streamer");
  await expect(page.locator("#detail")).toHaveText(
    "Nobody is streaming to this hub right now. The video starts as soon as someone does.",
  );
  await expect(page.locator("#streamer-picker")).toBeHidden();
  await expect(page.locator("#controls button:visible")).toHaveText(["Unmute", "Stats", "Fullscreen"]);
  await snap(page, testInfo, "waiting");
});

test("picker: several streamers live and none named", async ({ page }, testInfo) => {
  hub = await startHub(OPEN);
  await agent("cam-north");
  await agent("cam-south");
  await page.goto(`${hub.url}/`);
  await waitForState(page, "waiting");
  await expect(page.locator("#detail")).toHaveText("Several streamers are live — pick one:");
  const items = page.locator("#streamer-picker li");
  await expect(items).toHaveText(["cam-north0 viewers", "cam-south0 viewers"]);
  await snap(page, testInfo, "picker");

  await page.getByRole("link", { name: "cam-south" }).click();
  await expect(page).toHaveURL(/\?streamer=cam-south$/, { timeout: 10_000 });
  await waitForState(page, "live");
  await expect(page.locator("#streamer")).toHaveText("cam-south");
});

test("live: the stats overlay shows every figure and is remembered", async ({ page }, testInfo) => {
  hub = await startHub([...OPEN, ...FAST_HEARTBEAT]);
  await agent("cam-stats");
  await openPlayer(page, hub.url, "cam-stats");
  await waitForState(page, "live");
  await expect(page.locator("#stats")).toBeHidden();

  await page.keyboard.press("s");
  await expect(page.locator("#stats")).toBeVisible();
  expect(await debugField(page, "statsVisible")).toBe(true);
  const ms = /^\d+ ms$/;
  await expect(page.locator("#heartbeat-rtt")).toHaveText(ms);
  await expect(page.locator("#media-rtt")).toHaveText(ms);
  await expect(page.locator("#stat-fps")).toHaveText(/^[1-9]\d*\.\d$/);
  await expect(page.locator("#stat-resolution")).toHaveText("640 × 360");
  await expect(page.locator("#stat-bitrate")).toHaveText(/^\d+(\.\d)? (kbit|Mbit)\/s$/);
  await expect(page.locator("#stat-packets-lost")).toHaveText(/^\d+$/);
  await expect(page.locator("#stat-jitter")).toHaveText(/^\d+\.\d ms$/);
  await expect(page.locator("#stat-codec")).toHaveText("VP8");
  await expect(page.locator("#state")).toHaveText("Live");
  await snap(page, testInfo, "live-stats");

  // The mute control works (the test pattern has no audio, the element still toggles).
  expect(await debugField(page, "muted")).toBe(true);
  await page.getByRole("button", { name: "Unmute" }).click();
  expect(await debugField(page, "muted")).toBe(false);
  await page.keyboard.press("m");
  expect(await debugField(page, "muted")).toBe(true);

  // The choice survives a reload; the button hides it again.
  await page.reload();
  await waitForState(page, "live");
  await expect(page.locator("#stats")).toBeVisible();
  await page.getByRole("button", { name: "Hide stats" }).click();
  await expect(page.locator("#stats")).toBeHidden();
});

test("ended: the streamer died (SIGKILL), and the player resubscribes when it is back", async ({
  page,
}, testInfo) => {
  // The hub holds a vanished streamer's sessions for the resume grace before ending them.
  hub = await startHub([...OPEN, "--heartbeat-resume-grace-ms", "1000"]);
  const doomed = await agent("cam-kill");
  await openPlayer(page, hub.url, "cam-kill");
  await waitForState(page, "live");

  doomed.signal("SIGKILL");
  await waitForState(page, "ended", 10_000);
  await expect(page.locator("#state")).toHaveText("Ended");
  await expect(page.locator("#reason")).toHaveText("The streamer disconnected from the hub.");
  await expect(page.locator("#detail")).toHaveText(
    /^(Waiting for the streamer to come back…|Rejoining cam-kill in \d+ s…)$/,
  );
  await expect(page.locator("#reconnect")).toBeVisible();
  await snap(page, testInfo, "ended");

  await agent("cam-kill");
  await waitForState(page, "live", 30_000);
});

test("full: a streamer at its player limit says so and retries", async ({ page, context }, testInfo) => {
  // A short resume grace: the closed page's seat is freed soon after it goes.
  hub = await startHub([...OPEN, "--max-players", "1", "--heartbeat-resume-grace-ms", "1000"]);
  await agent("cam-full");
  const first = await context.newPage();
  await openPlayer(first, hub.url, "cam-full");
  await waitForState(first, "live");

  await openPlayer(page, hub.url, "cam-full");
  await expect(page.locator("#notice")).toHaveText("This stream is full (1 viewer).");
  await expect(page.locator("#state")).toHaveText("Waiting for streamer");
  await expect(page.locator("#detail")).toHaveText(/^Retrying in \d+ s — or press Reconnect\.$/);
  await snap(page, testInfo, "full");

  // A seat frees up: the retry takes it.
  await first.close();
  await waitForState(page, "live", 40_000);
});

test("kicked: an operator ended the session; Reconnect brings it back", async ({ page }, testInfo) => {
  const adminToken = "e2e-admin-token-0123456789";
  hub = await startHub([...OPEN, "--admin-token", adminToken]);
  await agent("cam-kick");
  await openPlayer(page, hub.url, "cam-kick");
  await waitForState(page, "live");
  const sessionId = (await debugField(page, "sessionId")) as string;

  const response = await fetch(`${hub.url}/api/sessions/${encodeURIComponent(sessionId)}`, {
    method: "DELETE",
    headers: { authorization: `Bearer ${adminToken}` },
  });
  expect(response.status).toBe(204);
  await waitForState(page, "ended", 10_000);
  await expect(page.locator("#reason")).toHaveText("An operator ended this session.");
  await expect(page.locator("#detail")).toHaveText("Press Reconnect to watch again.");
  await snap(page, testInfo, "kicked");

  // It stays ended on its own...
  await page.waitForTimeout(2000);
  expect(await debugField(page, "state")).toBe("ended");
  // ...until the viewer asks.
  await page.getByRole("button", { name: "Reconnect" }).click();
  await waitForState(page, "live", 20_000);
});

test("hub unreachable: a countdown, and Reconnect once the hub is back", async ({ page }, testInfo) => {
  const port = await freePort();
  hub = await startHub([...OPEN, "--port", String(port)]);
  await agent("cam-hub");
  await openPlayer(page, hub.url, "cam-hub");
  await waitForState(page, "live");

  await hub.stop();
  await waitForState(page, "offline", 30_000);
  await expect(page.locator("#state")).toHaveText("Offline — hub unreachable");
  await expect(page.locator("#detail")).toHaveText(
    /^The hub cannot be reached\. Retrying in \d+ s — or press Reconnect\.$/,
    { timeout: 10_000 },
  );
  await expect(page.locator("#reconnect")).toBeVisible();
  await snap(page, testInfo, "hub-unreachable");

  // Let the backoff grow past a few seconds, bring the hub back, and cut the wait short.
  await expect
    .poll(
      async () => {
        const at = (await debugField(page, "hubRetryAt")) as number | null;
        const now = await page.evaluate(() => performance.now());
        return at === null ? 0 : at - now;
      },
      { timeout: 20_000 },
    )
    .toBeGreaterThan(3000);
  hub = await startHub([...OPEN, "--port", String(port)]);
  await page.getByRole("button", { name: "Reconnect" }).click();
  await expect.poll(() => debugField(page, "state"), { timeout: 3000 }).not.toBe("offline");
  // The agent reconnects on its own schedule; then the player resubscribes.
  await waitForState(page, "live", 40_000);
});

test("refused: a hub that is not open turns a player without a token away", async ({ page }, testInfo) => {
  hub = await startHub(["--auth-open", "false"]);
  await page.goto(`${hub.url}/?token=not-a-valid-token`);
  await waitForState(page, "refused", 15_000);
  await expect(page.locator("#reason")).toHaveText(
    "This player is not allowed to connect: its link has no valid token (missing, wrong or expired). Ask the operator for a new link.",
  );
  // Slow retries, not a hot loop.
  await expect(page.locator("#detail")).toHaveText(/^Trying again in (2\d|30) s\.$/);
  await snap(page, testInfo, "refused");
});

test.describe("on a phone", () => {
  test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });

  test("the overlays leave the video visible and the controls in reach", async ({ page }, testInfo) => {
    hub = await startHub([...OPEN, ...FAST_HEARTBEAT]);
    await agent("cam-phone");
    await openPlayer(page, hub.url, "cam-phone");
    await waitForState(page, "live");
    await page.getByRole("button", { name: "Stats" }).tap();
    await expect(page.locator("#stat-resolution")).toHaveText("640 × 360");
    await expect(page.locator("#stat-codec")).toHaveText("VP8");

    const viewport = { width: 390, height: 844 };
    const box = async (selector: string) => {
      const found = await page.locator(selector).boundingBox();
      if (found === null) throw new Error(`${selector} is not laid out`);
      return found;
    };
    // Where the 16:9 picture sits in the letterboxed <video>.
    const pictureHeight = (viewport.width * 360) / 640;
    const pictureTop = (viewport.height - pictureHeight) / 2;
    const pictureBottom = pictureTop + pictureHeight;
    const status = await box("#overlay");
    const stats = await box("#stats");
    const controls = await box("#controls");
    expect(status.y + status.height).toBeLessThanOrEqual(pictureTop);
    expect(stats.y).toBeGreaterThanOrEqual(pictureBottom);
    expect(controls.y + controls.height).toBeLessThanOrEqual(viewport.height);
    expect(controls.x).toBeGreaterThanOrEqual(0);
    expect(controls.x + controls.width).toBeLessThanOrEqual(viewport.width);
    for (const name of ["Unmute", "Hide stats", "Fullscreen"]) {
      const button = await page.getByRole("button", { name }).boundingBox();
      expect(button?.height ?? 0).toBeGreaterThanOrEqual(36);
    }
    await snap(page, testInfo, "phone-live");
  });
});
