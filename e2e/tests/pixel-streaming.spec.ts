/**
 * Drop-in for Epic's Wilbur: Epic's own frontend (from npm, UE5.5 and UE5.7, built by ps-player
 * and served by the hub at /ps/) plays the video of a Pixel Streaming streamer (the agent with
 * `--protocol pixelstreaming`, speaking Unreal's side of the protocol) through the real hub, in
 * Debian's chromium over real WebRTC; the hub lists the session like any other.
 */
import type { Page } from "@playwright/test";
import { expect, test } from "./support/fixtures.js";
import { decodedFrames, psEvents, recordPsEvents, waitForPsEvent } from "./support/epic-player.js";

const TOKEN = "e2e-admin-token-0123456789";

interface ApiSession {
  id: string;
  streamerId: string;
  playerId: string;
  state: string;
}

/** Everything the page loaded or threw: it must load nothing from elsewhere and throw nothing. */
function watchPage(page: Page, hubUrl: string): { errors: string[]; foreign: string[] } {
  const errors: string[] = [];
  const foreign: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("request", (request) => {
    const url = request.url();
    if (!url.startsWith(hubUrl) && !url.startsWith("data:") && !url.startsWith("blob:")) foreign.push(url);
  });
  return { errors, foreign };
}

for (const { version, path } of [
  { version: "UE5.5", path: "/ps/" },
  { version: "UE5.7", path: "/ps/ue5.7/" },
]) {
  test(`Epic's ${version} frontend plays a Pixel Streaming streamer's video through the hub`, async ({
    page,
    procs,
  }, testInfo) => {
    const hub = await procs.hub(["--pixel-streaming-enabled", "true", "--admin-token", TOKEN]);
    const streamerId = `ps-${version.replace(".", "")}`;
    const agent = await procs.agent(hub.url, streamerId, ["--protocol", "pixelstreaming"]);
    expect(agent.logs.find((l) => l.msg === "registered")).toMatchObject({
      streamerId,
      protocol: "pixelstreaming",
    });

    const seen = watchPage(page, hub.url);
    await recordPsEvents(page);
    // Epic's page waits for a click unless told to connect; the URL settings are Epic's own.
    await page.goto(`${hub.url}${path}?AutoConnect=true&StreamerId=${streamerId}`);
    await waitForPsEvent(page, "playStream", 30_000);

    // Frames are decoded, and keep coming.
    await expect.poll(async () => (await decodedFrames(page)).frames, { timeout: 15_000 }).toBeGreaterThan(0);
    const before = await decodedFrames(page);
    await page.waitForTimeout(2000);
    const after = await decodedFrames(page);
    expect(after.frames - before.frames, "frames decoded in 2 s (30 fps sent)").toBeGreaterThan(20);
    expect([after.width, after.height]).toEqual([640, 360]);

    const events = await psEvents(page);
    const names = events.map((e) => e.name);
    const playAt = events.find((e) => e.name === "playStream")?.at ?? Number.NaN;
    // Figures for the report: ms from the page's navigation start, and the decode rate.
    testInfo.annotations.push({
      type: "figures",
      description: `playStream at ${Math.round(playAt)} ms; ${(after.frames - before.frames) / 2} frames/s decoded`,
    });
    expect(names).toEqual(expect.arrayContaining(["webRtcConnected", "dataChannelOpen", "videoInitialized"]));
    expect(names).not.toContain("webRtcFailed");
    expect(names).not.toContain("webRtcDisconnected");
    await page.screenshot({ path: testInfo.outputPath(`epic-${version}-playing.png`) });

    // The agent saw the player join, by the hub's playerId.
    const joined = await agent.waitForLog((l) => l.msg === "player joined", 5_000, "'player joined'");
    expect(joined.playerId).toEqual(expect.any(String));

    // The hub lists the session like a heartline one.
    const response = await fetch(`${hub.url}/api/sessions`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(response.status).toBe(200);
    const { sessions } = (await response.json()) as { sessions: ApiSession[] };
    expect(sessions.filter((s) => s.streamerId === streamerId)).toHaveLength(1);

    expect(seen.errors, "errors in Epic's page").toEqual([]);
    expect(seen.foreign, "requests that left the hub").toEqual([]);
  });
}
