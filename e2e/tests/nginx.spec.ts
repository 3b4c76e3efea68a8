/**
 * The hub behind a real nginx (Debian's) running the committed deploy/nginx/heartline.conf:
 * TLS terminated by nginx with a self-signed certificate, WebSocket upgrades, the hub's
 * trustProxy reading X-Forwarded-For and X-Forwarded-Proto, and proxy_read_timeout 60s that an
 * idle session survives for minutes with the default heartbeat (5 s, 3 beats).
 *
 * nginx reaches the hub from 127.0.0.9 (proxy_bind) while the browser comes from 127.0.0.1,
 * so the hub's logs show which address it took.
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { connect as tlsConnect } from "node:tls";
import { expect, test } from "./support/fixtures.js";
import { Nginx } from "./support/nginx.js";
import { handle, openPlayer, presentsFrames, videoStats, waitForState } from "./support/player.js";
import type { HubProcess, LogLine } from "./support/processes.js";

const PROXY_ADDRESS = "127.0.0.9";
const CLIENT_ADDRESS = "127.0.0.1";

test.use({ ignoreHTTPSErrors: true }); // nginx's certificate is self-signed

let nginx: Nginx | undefined;
// eslint-disable-next-line no-empty-pattern -- Playwright hooks take their fixtures by destructuring
test.afterEach(async ({}, testInfo) => {
  if (nginx) {
    for (const [name, text] of [
      ["nginx-access.log", nginx.accessLog],
      ["nginx-error.log", nginx.errorLog],
    ] as const) {
      await testInfo.attach(name, { body: text, contentType: "text/plain" });
    }
  }
  await nginx?.stop();
  nginx = undefined;
});

async function proxiedHub(
  procs: { hub: (args?: string[]) => Promise<HubProcess> },
  args: string[] = [],
): Promise<HubProcess> {
  const hub = await procs.hub(["--trust-proxy", "true", ...args]);
  nginx = await Nginx.start({ upstream: new URL(hub.url).host, bindAddress: PROXY_ADDRESS });
  return hub;
}

/**
 * Opens a socket.io WebSocket through nginx by hand (e2e has no WebSocket client for Node), with
 * extra request headers, and sends one socket.io CONNECT packet carrying `auth`.
 */
async function connectRaw(url: string, headers: Record<string, string>, auth: unknown): Promise<void> {
  const { hostname, port } = new URL(url);
  const socket = tlsConnect({ host: hostname, port: Number(port), rejectUnauthorized: false });
  await once(socket, "secureConnect");
  const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  socket.write(
    "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n" +
      `Host: ${hostname}:${port}\r\n` +
      "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
      `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\n${extra.join("")}\r\n`,
  );
  const [answer] = (await once(socket, "data")) as [Buffer];
  expect(answer.toString("latin1")).toMatch(/^HTTP\/1\.1 101 /);
  // One masked text frame (a zero mask is a valid mask): socket.io's CONNECT, "40" + auth.
  const payload = Buffer.from(`40${JSON.stringify(auth)}`);
  if (payload.length > 125) throw new Error("connectRaw sends short frames only");
  socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length, 0, 0, 0, 0]), payload]));
  // Wait for the hub's answer (the refusal), then hang up.
  await once(socket, "data");
  socket.destroy();
}

test("a player through nginx plays the agent's video and stays live for 3 minutes", async ({
  page,
  procs,
}, testInfo) => {
  test.setTimeout(240_000);
  const hub = await proxiedHub(procs);
  await procs.agent(hub.url, "cam-nginx");
  if (!nginx) throw new Error("nginx did not start");
  const proxy = nginx;

  await openPlayer(page, proxy.url, "cam-nginx");
  await waitForState(page, "live");
  await expect
    .poll(async () => (await videoStats(page)).framesDecoded, { timeout: 20_000 })
    .toBeGreaterThan(10);
  expect(await presentsFrames(page)).toBe(true);
  const { sessionId, config } = await handle(page);
  expect(sessionId).not.toBeNull();
  // The default heartbeat: nothing here shortens it to make the hold easier.
  expect(config?.heartbeat.intervalMs).toBe(5000);
  const closed = (l: LogLine): boolean => l.msg === "session closed";

  // Hold: every 10 s the same session is still live and still decoding new frames.
  const holdMs = 180_000;
  const startedAt = Date.now();
  let frames = (await videoStats(page)).framesDecoded;
  let checks = 0;
  while (Date.now() - startedAt < holdMs) {
    await page.waitForTimeout(10_000);
    const now = await handle(page);
    expect(now.state, `after ${String(Date.now() - startedAt)} ms`).toBe("live");
    expect(now.sessionId).toBe(sessionId);
    expect(now.closeReason).toBeNull();
    const decoded = (await videoStats(page)).framesDecoded;
    expect(decoded, "frames still decoded").toBeGreaterThan(frames);
    frames = decoded;
    expect(hub.logs.filter(closed)).toEqual([]);
    checks += 1;
  }
  expect(checks).toBeGreaterThanOrEqual(17);
  const final = await handle(page);
  testInfo.annotations.push({
    type: "hold",
    description: `${String(checks)} checks over ${String(Date.now() - startedAt)} ms; ${String(frames)} frames decoded; ${String(final.pingsReceived)} pings`,
  });
  const screenshot = testInfo.outputPath("player-through-nginx.png");
  await page.screenshot({ path: screenshot });
  await testInfo.attach("player-through-nginx", { path: screenshot, contentType: "image/png" });

  // nginx logs an upgraded request when its tunnel ends: leave the page, then the access log
  // shows the player's socket.io WebSocket as a 101 through the proxy.
  await page.goto("about:blank");
  await expect
    .poll(() => proxy.accessLog, { timeout: 15_000 })
    .toMatch(/"GET \/socket\.io\/\?[^"]*transport=websocket[^"]*" 101 /);
  expect(proxy.errorLog).not.toMatch(/upstream timed out/);
});

test("behind nginx the hub takes the client's address from X-Forwarded-For, not a forged one", async ({
  procs,
}) => {
  const hub = await proxiedHub(procs);
  if (!nginx) throw new Error("nginx did not start");
  // A socket.io CONNECT with an unknown role, which the hub refuses and logs with the address
  // it took. The client also forges X-Forwarded-For: nginx's config replaces the header, so the
  // forged address must not reach the hub.
  await connectRaw(nginx.url, { "X-Forwarded-For": "203.0.113.7" }, { role: "nobody" });
  const refused = await hub.waitForLog((l) => l.msg === "handshake refused", 10_000);
  expect(refused.address).toBe(CLIENT_ADDRESS);
});

test("behind nginx the hub logs the player's own address when it connects", async ({ page, procs }) => {
  const hub = await proxiedHub(procs);
  await procs.agent(hub.url, "cam-nginx-address");
  if (!nginx) throw new Error("nginx did not start");

  await openPlayer(page, nginx.url, "cam-nginx-address");
  await waitForState(page, "live");
  const connected = await hub.waitForLog((l) => l.msg === "peer connected" && l.role === "player");
  expect(connected.address).toBe(CLIENT_ADDRESS);
});
