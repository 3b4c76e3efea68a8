/**
 * The operator's dashboard against the real hub, agent and player: it signs in with the admin
 * token, shows sessions as they come and go (state, RTT sparkline), and ends one as `kicked`,
 * which the player and the endings log both report.
 */
import type { Page } from "@playwright/test";
import { expect, test } from "./support/fixtures.js";
import { handle, openPlayer, waitForState } from "./support/player.js";

const TOKEN = "e2e-admin-token-0123456789";

const sessionRow = (dashboard: Page, sessionId: string) =>
  dashboard.locator(`#sessions tbody tr[data-session-id="${sessionId}"]`);
const ending = (dashboard: Page, sessionId: string) =>
  dashboard.locator(`#endings li[data-session-id="${sessionId}"]`);

test("the dashboard follows sessions live and ends one as kicked", async ({ context, procs }, testInfo) => {
  const hub = await procs.hub(["--admin-token", TOKEN, "--heartbeat-interval-ms", "300"]);
  expect(hub.logs.find((l) => l.dashboardUrl !== undefined)?.dashboardUrl).toBe(`${hub.url}/dashboard`);
  await procs.agent(hub.url, "cam-dash");

  const dashboard = await context.newPage();
  await dashboard.setViewportSize({ width: 1280, height: 720 });
  await dashboard.goto(`${hub.url}/dashboard#token=${TOKEN}`);
  await expect(dashboard.locator("#connection")).toHaveText("Live");
  // The token left the address bar (it stays in sessionStorage for reloads).
  expect(new URL(dashboard.url()).hash).toBe("");
  await expect(dashboard.locator('#streamers li[data-streamer-id="cam-dash"]')).toContainText("0 players");

  // A session comes...
  const first = await context.newPage();
  await openPlayer(first, hub.url, "cam-dash");
  await waitForState(first, "live");
  const firstId = (await handle(first)).sessionId ?? "";
  const firstRow = sessionRow(dashboard, firstId);
  await expect(firstRow).toBeVisible();
  await expect(firstRow.locator(".state .badge")).toHaveText("live");
  await expect(firstRow.locator(".streamer")).toHaveText("cam-dash");
  await expect(firstRow.locator(".rtt-value")).toHaveText(/^\d+ ms$/);
  await expect(firstRow.locator(".sparkline canvas")).toHaveCount(1);
  await expect(dashboard.locator("#count-live")).toHaveText("1");
  await expect(dashboard.locator('#streamers li[data-streamer-id="cam-dash"]')).toContainText("1 player");

  // ...and goes: the row leaves, the log says why. Closing the tab cuts the socket and the
  // peer connection at once; whichever the hub hears of first names the ending.
  await first.close();
  await expect(firstRow).toHaveCount(0);
  await expect(ending(dashboard, firstId)).toHaveAttribute("data-reason", /^(player-left|media-timeout)$/);

  // Another comes and the RTT sparkline fills with samples.
  const player = await context.newPage();
  await openPlayer(player, hub.url, "cam-dash");
  await waitForState(player, "live");
  const sessionId = (await handle(player)).sessionId ?? "";
  const row = sessionRow(dashboard, sessionId);
  await expect(row.locator(".state .badge")).toHaveText("live");
  await expect(row.locator(".rtt-value")).toHaveText(/^\d+ ms$/);
  await dashboard.waitForTimeout(3000);
  const screenshot = testInfo.outputPath("dashboard-live.png");
  await dashboard.screenshot({ path: screenshot, fullPage: true });
  await testInfo.attach("dashboard-live", { path: screenshot, contentType: "image/png" });

  // The operator ends it: two clicks (arm, confirm).
  const end = row.locator("button", { hasText: "End" });
  await end.click();
  await expect(row.locator("button")).toHaveText("Sure?");
  await row.locator("button").click();
  await expect(row).toHaveCount(0);
  await expect(ending(dashboard, sessionId)).toHaveAttribute("data-reason", "kicked");
  await expect(ending(dashboard, sessionId).locator(".reason")).toHaveText("kicked");
  await expect.poll(async () => (await handle(player)).closeReason).toBe("kicked");
  const audit = await hub.waitForLog((l) => l.audit === true && l.action === "end-session");
  expect(audit.sessionId).toBe(sessionId);

  const after = testInfo.outputPath("dashboard-kicked.png");
  await dashboard.screenshot({ path: after, fullPage: true });
  await testInfo.attach("dashboard-kicked", { path: after, contentType: "image/png" });
});

test("the dashboard asks for the token and refuses a wrong one", async ({ page, procs }) => {
  const hub = await procs.hub(["--admin-token", TOKEN]);
  await page.goto(`${hub.url}/dashboard`);
  await expect(page.locator("#login")).toBeVisible();
  await page.locator("#token").fill("wrong-token-0123456789");
  await page.locator("#login button[type=submit]").click();
  await expect(page.locator("#login-error")).toContainText("wrong");
  await page.locator("#token").fill(TOKEN);
  await page.locator("#login button[type=submit]").click();
  await expect(page.locator("#connection")).toHaveText("Live");
  await expect(page.locator("#board")).toBeVisible();
  // A reload in the same tab stays signed in.
  await page.reload();
  await expect(page.locator("#connection")).toHaveText("Live");
});

test("without admin.token the dashboard says how to turn it on", async ({ page, procs }) => {
  const hub = await procs.hub();
  await page.goto(`${hub.url}/dashboard#token=${TOKEN}`);
  await expect(page.locator("#login-error")).toContainText("set admin.token");
});
