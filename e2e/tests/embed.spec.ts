/**
 * The player as a library on someone else's page: a page served from another origin loads the
 * BUILT browser bundle of @heartline/player (player/dist/browser, from `vite build`), embeds
 * `<heartline-player hub=… streamer=… token=…>` and plays the real agent's video through a hub
 * that requires tokens and lists that origin in `allowedOrigins`; the same page from an origin
 * the hub does not list gets an `error` event that says why, instead of silence.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { fileURLToPath } from "node:url";
import { expect, test as base, type Page, type TestInfo } from "@playwright/test";
import { freePort } from "@heartline/shared/testing";
import { startAgent, startHub, type HubProcess, type Managed } from "./support/processes.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BUNDLE = `${ROOT}player/dist/browser/heartline-player.js`;
const ADMIN_TOKEN = "embed-admin-token-0123456789abcdef";
const STREAMER_KEY = "embed-streamer-key-0123456789abcdef";
const TOKEN_SECRET = "embed-player-token-secret-0123456789abcdef";
const EVENT_TYPES = ["statechange", "sessionstart", "sessionend", "stats", "error"] as const;

interface SeenEvent {
  type: string;
  state?: string;
  previous?: string;
  reason?: string;
  code?: string | null;
  message?: string;
  sessionId?: string;
  fps?: number | null;
}
declare global {
  interface Window {
    embedEvents?: SeenEvent[];
  }
}

/** The embedding site's page: five lines of markup, and a log of the element's events. */
function embedPage(hubUrl: string, streamer: string, token: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A site embedding heartline</title>
<style>body{margin:0;font:15px system-ui,sans-serif;background:#f4f1ea;color:#222}
main{max-width:720px;margin:24px auto;padding:0 16px}heartline-player{border-radius:10px}</style>
<script>
  window.embedEvents = [];
  for (const type of ${JSON.stringify(EVENT_TYPES)}) {
    document.addEventListener(type, (event) => {
      const d = event.detail ?? {};
      window.embedEvents.push({ type, state: d.state, previous: d.previous, reason: d.reason,
        code: d.code, message: d.message, sessionId: d.sessionId, fps: d.receiveStats?.fps ?? null });
    });
  }
</script>
<script type="module" src="/heartline-player.js"></script>
</head><body><main>
<h1>Our site</h1><p>The stream below is a heartline player embedded from another origin.</p>
<heartline-player hub="${hubUrl}" streamer="${streamer}" token="${token}"></heartline-player>
</main></body></html>`;
}

/** A tiny static site on its own port (another origin than the hub's): the page and the bundle. */
async function startSite(html: () => string): Promise<{ origin: string; server: Server }> {
  const bundle = readFileSync(BUNDLE);
  const server = createServer((req, res) => {
    if (req.url === "/heartline-player.js") {
      res.writeHead(200, { "content-type": "text/javascript" }).end(bundle);
    } else if (req.url === "/") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(html());
    } else {
      res.writeHead(404).end();
    }
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return { origin: `http://127.0.0.1:${port}`, server };
}

const test = base.extend<{ running: { hubs: HubProcess[]; agents: Managed[]; sites: Server[] } }>({
  // eslint-disable-next-line no-empty-pattern -- Playwright fixtures take their dependencies by destructuring
  running: async ({}, use) => {
    const running = { hubs: [] as HubProcess[], agents: [] as Managed[], sites: [] as Server[] };
    await use(running);
    for (const agent of running.agents) await agent.stop();
    for (const hub of running.hubs) await hub.stop();
    for (const site of running.sites) site.close();
  },
});

test.beforeAll(() => {
  // The browser bundle, as `pnpm --filter @heartline/player build` (and scripts/packages.mjs) makes it.
  const result = spawnSync("pnpm", ["--filter", "@heartline/player", "build"], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 120_000,
  });
  if (result.status !== 0) throw new Error(`player build failed:\n${result.stdout}\n${result.stderr}`);
});

function events(page: Page): Promise<SeenEvent[]> {
  return page.evaluate(() => window.embedEvents ?? []);
}

async function snap(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const path = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path });
  await testInfo.attach(name, { path, contentType: "image/png" });
}

/** A hub that admits nobody without a key or token, except the origins given. */
async function lockedHub(allowedOrigins: string[]): Promise<HubProcess> {
  return startHub([
    "--auth-open",
    "false",
    "--auth-streamer-keys",
    JSON.stringify([{ key: STREAMER_KEY }]),
    "--auth-player-token-secret",
    TOKEN_SECRET,
    "--admin-token",
    ADMIN_TOKEN,
    "--allowed-origins",
    JSON.stringify(allowedOrigins),
    "--heartbeat-interval-ms",
    "1000",
  ]);
}

async function playerToken(hubUrl: string, streamerId: string): Promise<string> {
  const response = await fetch(`${hubUrl}/api/player-token`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ streamerId }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { token: string }).token;
}

test("a page on an allowed origin embeds <heartline-player> and plays the agent's video", async ({
  page,
  running,
}, testInfo) => {
  // The site's port is chosen first, so the hub can list its origin.
  let html = "";
  const site = await startSite(() => html);
  running.sites.push(site.server);
  const hub = await lockedHub([site.origin]);
  running.hubs.push(hub);
  running.agents.push(await startAgent(hub.url, "embedded", ["--key", STREAMER_KEY]));
  html = embedPage(hub.url, "embedded", await playerToken(hub.url, "embedded"));
  expect(new URL(site.origin).port).not.toBe(new URL(hub.url).port);

  await page.goto(`${site.origin}/`);
  const player = page.locator("heartline-player");
  await expect(player).toHaveAttribute("data-state", "live", { timeout: 20_000 });

  // Frames decode in the element's own <video> (inside its shadow root).
  const playback = () =>
    player.evaluate((el) => {
      const video = (el as HTMLElement & { video: HTMLVideoElement }).video;
      return {
        currentTime: video.currentTime,
        width: video.videoWidth,
        frames: video.getVideoPlaybackQuality().totalVideoFrames,
      };
    });
  await expect.poll(async () => (await playback()).frames, { timeout: 20_000 }).toBeGreaterThan(10);
  const before = await playback();
  await expect
    .poll(async () => (await playback()).currentTime, { timeout: 10_000 })
    .toBeGreaterThan(before.currentTime);
  expect(before.width).toBe(640);

  // The events arrived, in order, with reasons in words; stats keep coming.
  await expect
    .poll(async () => (await events(page)).filter((e) => e.type === "stats").length)
    .toBeGreaterThan(1);
  const seen = await events(page);
  const states = seen.filter((e) => e.type === "statechange").map((e) => e.state);
  expect(states.slice(0, 4)).toEqual(["connecting", "waiting", "negotiating", "live"]);
  expect(seen.find((e) => e.state === "live")?.reason).toBe("Playing embedded live.");
  const started = seen.find((e) => e.type === "sessionstart");
  expect(started?.sessionId).toMatch(/.+/);
  expect(seen.filter((e) => e.type === "error")).toEqual([]);
  await snap(page, testInfo, "embed-live");

  // disconnect() ends the session with a sessionend naming why; connect() plays again.
  await player.evaluate((el) => {
    (el as HTMLElement & { disconnect(): void }).disconnect();
  });
  await expect(player).toHaveAttribute("data-state", "disconnected");
  const ended = (await events(page)).find((e) => e.type === "sessionend");
  expect(ended).toMatchObject({
    sessionId: started?.sessionId,
    message: "This page disconnected the player.",
  });
  await player.evaluate((el) => {
    (el as HTMLElement & { connect(): void }).connect();
  });
  await expect(player).toHaveAttribute("data-state", "live", { timeout: 20_000 });
});

test("a page on an origin the hub does not list gets an error event that says why", async ({
  page,
  running,
}, testInfo) => {
  const hub = await lockedHub(["http://127.0.0.1:1"]);
  running.hubs.push(hub);
  running.agents.push(await startAgent(hub.url, "embedded", ["--key", STREAMER_KEY]));
  const html = embedPage(hub.url, "embedded", await playerToken(hub.url, "embedded"));
  const site = await startSite(() => html);
  running.sites.push(site.server);

  await page.goto(`${site.origin}/`);
  await expect.poll(async () => (await events(page)).find((e) => e.type === "error")).toBeDefined();
  const seen = await events(page);
  expect(seen.find((e) => e.type === "error")).toMatchObject({
    type: "error",
    code: "origin-not-allowed",
    message: `This player is not allowed to connect: the hub does not accept players on ${site.origin}. Ask the operator for a new link.`,
  });
  expect(seen.find((e) => e.type === "statechange" && e.state === "refused")?.code).toBe(
    "origin-not-allowed",
  );
  await expect(page.locator("heartline-player")).toHaveAttribute("data-state", "refused");
  await snap(page, testInfo, "embed-refused");
  await hub.waitForLog((l) => l.msg === "handshake refused" && l.code === "origin-not-allowed");
});
