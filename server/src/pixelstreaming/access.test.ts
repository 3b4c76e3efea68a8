/**
 * Access for clients that cannot change, decided at the WebSocket upgrade with an HTTP status:
 * streamer keys in the URL or `Authorization: Bearer`, player tokens as `?token=`, Bearer or the
 * cookie the `/ps/` page sets, the origin allow-list, per-address limits and the upgrade rate.
 */
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { freePort } from "@heartline/shared/testing";
import { startHub, type TestHub } from "../testing/harness.js";
import { RawPs } from "./testing/RawPs.js";

const KEY = "ps-streamer-key-0123456789";
const BOUND_KEY = "ps-bound-key-0123456789abc";
const SECRET = "ps-player-token-secret-0123456789abcdef";

const hubs: TestHub[] = [];
const peers: RawPs[] = [];
afterEach(async () => {
  for (const peer of peers.splice(0)) peer.ws.terminate();
  await Promise.all(hubs.splice(0).map((h) => h.close()));
});

async function closedHub(overrides: Record<string, unknown> = {}): Promise<TestHub> {
  const hub = await startHub({
    auth: {
      open: false,
      streamerKeys: [{ key: KEY }, { key: BOUND_KEY, streamerIds: ["cam7"] }],
      playerTokenSecret: SECRET,
    },
    pixelStreaming: { enabled: true },
    ...overrides,
  });
  hubs.push(hub);
  return hub;
}

const wsUrl = (hub: TestHub, path: string) => hub.url.replace(/^http/, "ws") + path;

/** The HTTP status an upgrade was refused with, or 101 when it opened. */
function upgradeStatus(
  url: string,
  headers: Record<string, string> = {},
  localAddress?: string,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, ...(localAddress === undefined ? {} : { localAddress }) });
    ws.once("open", () => {
      ws.terminate();
      resolve(101);
    });
    ws.once("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
    });
    ws.once("error", (error) => {
      if (!error.message.startsWith("Unexpected server response")) reject(error);
    });
  });
}

/** The HTTP status and text an upgrade was refused with (status 101 and no text when it opened). */
function refusedUpgrade(url: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once("open", () => {
      ws.terminate();
      resolve({ status: 101, text: "" });
    });
    ws.once("unexpected-response", (_req, res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, text });
      });
    });
    ws.once("error", (error) => {
      if (!error.message.startsWith("Unexpected server response")) reject(error);
    });
  });
}

const upgradeRefusals = (hub: TestHub) => hub.logs.filter((l) => l.msg === "Pixel Streaming upgrade refused");

describe("Pixel Streaming streamers", () => {
  it("need a key: 401 without one or with a wrong one; in the query or as a Bearer header it opens", async () => {
    const hub = await closedHub();
    expect(await upgradeStatus(wsUrl(hub, "/ps/streamer"))).toBe(401);
    expect(await upgradeStatus(wsUrl(hub, "/ps/streamer?key=wrong-key-0123456789"))).toBe(401);
    expect(await upgradeStatus(wsUrl(hub, `/ps/streamer?key=${KEY}`))).toBe(101);
    expect(await upgradeStatus(wsUrl(hub, "/ps/streamer"), { authorization: `Bearer ${KEY}` })).toBe(101);
    const refusals = upgradeRefusals(hub);
    expect(refusals).toHaveLength(2);
    expect(refusals[0]).toMatchObject({ code: "unauthorized", status: 401, role: "streamer" });
    expect(JSON.stringify(hub.logs)).not.toContain(KEY);
  });

  it("in open mode need no key, but a wrong one is refused with 401 saying so (as on socket.io), logged once", async () => {
    const hub = await closedHub({
      auth: { open: true, streamerKeys: [{ key: KEY }, { key: BOUND_KEY, streamerIds: ["cam7"] }] },
    });
    expect(await upgradeStatus(wsUrl(hub, "/ps/streamer"))).toBe(101);
    const wrong = await refusedUpgrade(wsUrl(hub, "/ps/streamer?key=wrong-key-0123456789"));
    expect(wrong).toEqual({
      status: 401,
      text: "this streamer key is not one of the hub's keys (the hub runs open: leave ?key= or Authorization: Bearer out, or send a valid key)",
    });
    expect(
      await upgradeStatus(wsUrl(hub, "/ps/streamer"), { authorization: "Bearer wrong-key-0123456789" }),
    ).toBe(401);
    expect(await upgradeStatus(wsUrl(hub, `/ps/streamer?key=${KEY}`))).toBe(101);
    // A right key binds as it does on a closed hub.
    const { s, committedId } = await RawPs.streamer(wsUrl(hub, `/ps/streamer?key=${BOUND_KEY}`), "other");
    peers.push(s);
    expect(committedId).toBe("cam7");
    const refusals = upgradeRefusals(hub);
    expect(refusals).toHaveLength(2);
    expect(refusals[0]).toMatchObject({ code: "unauthorized", status: 401, role: "streamer" });
    expect(JSON.stringify(hub.logs)).not.toContain("wrong-key-0123456789");
  });

  it("a key bound to one id gets that id whatever the streamer calls itself", async () => {
    const hub = await closedHub();
    const { s, committedId } = await RawPs.streamer(
      wsUrl(hub, `/ps/streamer?key=${BOUND_KEY}`),
      "DefaultStreamer",
    );
    peers.push(s);
    expect(committedId).toBe("cam7");
    expect(hub.hub.registry.listStreamers("pixelstreaming")).toEqual([{ streamerId: "cam7", players: 0 }]);
  });

  it("ids are made valid for heartline and reported in endpointIdConfirm", async () => {
    const hub = await closedHub();
    const { s, committedId } = await RawPs.streamer(wsUrl(hub, `/ps/streamer?key=${KEY}`), "My Streamer/1");
    peers.push(s);
    expect(committedId).toBe("My_Streamer_1");
  });
});

describe("Pixel Streaming players", () => {
  it("need a token: 401 without one; ?token= and Bearer open", async () => {
    const hub = await closedHub();
    const token = await hub.hub.access.issuePlayerToken({});
    expect(await upgradeStatus(wsUrl(hub, "/"))).toBe(401);
    expect(await upgradeStatus(wsUrl(hub, "/?token=not-a-token"))).toBe(401);
    expect(await upgradeStatus(wsUrl(hub, `/?token=${token}`))).toBe(101);
    expect(await upgradeStatus(wsUrl(hub, "/"), { authorization: `Bearer ${token}` })).toBe(101);
  });

  it("GET /ps/?token= moves the token into an HttpOnly cookie that opens the upgrade to /", async () => {
    const hub = await closedHub();
    const token = await hub.hub.access.issuePlayerToken({});
    const response = await fetch(`${hub.url}/ps/?token=${token}&StreamerId=cam7`, { redirect: "manual" });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/ps/?StreamerId=cam7");
    const cookie = response.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^heartline_ps_token=[^;]+; Max-Age=\d+; Path=\/; .*HttpOnly; SameSite=Strict$/);
    const pair = cookie.split(";")[0] ?? "";
    expect(await upgradeStatus(wsUrl(hub, "/"), { cookie: pair })).toBe(101);
    expect(await upgradeStatus(wsUrl(hub, "/"), { cookie: "heartline_ps_token=forged" })).toBe(401);
  });

  it("a token naming a streamer opens only that streamer (subscribeFailed for another)", async () => {
    const hub = await closedHub();
    const a = await RawPs.streamer(wsUrl(hub, `/ps/streamer?key=${KEY}`), "a");
    const b = await RawPs.streamer(wsUrl(hub, `/ps/streamer?key=${KEY}`), "b");
    peers.push(a.s, b.s);
    const token = await hub.hub.access.issuePlayerToken({ streamerId: "a" });
    const p = await RawPs.connect(wsUrl(hub, `/?token=${token}`));
    peers.push(p);
    p.send({ type: "subscribe", streamerId: "b" });
    const failed = await p.next("subscribeFailed");
    expect(failed).toEqual({
      type: "subscribeFailed",
      message: "this player's token is for streamer 'a' only",
    });
    p.send({ type: "subscribe", streamerId: "a" });
    await a.s.next("playerConnected");
    expect(b.s.all("playerConnected")).toEqual([]);
  });

  it("are refused with 403 from an origin that is not the hub's own or allowed", async () => {
    const hub = await closedHub({ auth: { open: true }, allowedOrigins: ["https://play.example.com"] });
    expect(await upgradeStatus(wsUrl(hub, "/"), { origin: "https://evil.example.com" })).toBe(403);
    expect(await upgradeStatus(wsUrl(hub, "/"), { origin: "https://play.example.com" })).toBe(101);
    expect(await upgradeStatus(wsUrl(hub, "/"), { origin: hub.url })).toBe(101);
    // The same list guards the streamer path (Epic's JSStreamer is a page on another origin).
    expect(await upgradeStatus(wsUrl(hub, "/ps/streamer"), { origin: "https://evil.example.com" })).toBe(403);
  });
});

describe("every address", () => {
  it("may hold limits.connectionsPerIp sockets; one more is refused with 429", async () => {
    const hub = await closedHub({ auth: { open: true }, limits: { connectionsPerIp: 3 } });
    for (let i = 0; i < 3; i += 1) {
      const p = await RawPs.connect(wsUrl(hub, "/"));
      peers.push(p);
    }
    expect(await upgradeStatus(wsUrl(hub, "/"))).toBe(429);
  });

  it("may make 20 upgrades at once; past that they are refused with 429 (Unreal retries every 2 s)", async () => {
    const hub = await closedHub();
    const statuses: number[] = [];
    for (let i = 0; i < 40; i += 1) statuses.push(await upgradeStatus(wsUrl(hub, "/ps/streamer")));
    // The first 20 reach the key check; the bucket refills at 5 a second, far slower than this.
    expect(statuses.slice(0, 20)).toEqual(Array<number>(20).fill(401));
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(5);
  });

  it("upgrade rates are per address and configurable; an idle address is forgotten", async () => {
    const hub = await closedHub({
      auth: { open: true },
      pixelStreaming: { enabled: true, upgradesPerSecond: 50, upgradeBurst: 2 },
    });
    const from = (host: string) => upgradeStatus(wsUrl(hub, "/"), {}, host);
    expect([await from("127.0.0.2"), await from("127.0.0.2"), await from("127.0.0.2")]).toEqual([
      101, 101, 429,
    ]);
    // Another address has its own allowance.
    expect(await from("127.0.0.3")).toBe(101);
    expect(hub.hub.pixelStreaming?.trackedAddresses).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await from("127.0.0.4")).toBe(101);
    expect(hub.hub.pixelStreaming?.trackedAddresses).toBe(1);
  });

  it("a path that is not Pixel Streaming's is still socket.io's (heartline's own clients work beside it)", async () => {
    const hub = await closedHub({ auth: { open: true } });
    const s = await hub.streamer("cam1");
    const p = await hub.player();
    p.send({ type: "subscribe", streamerId: "cam1" });
    await s.next("playerJoined");
  });
});

describe("upgrade refusal lines", () => {
  it("are throttled: a flood of 150 refused upgrades writes a burst, then a count of the rest by code", async () => {
    const hub = await closedHub();
    const statuses = await Promise.all(
      Array.from({ length: 150 }, () => upgradeStatus(wsUrl(hub, "/ps/streamer?key=wrong-key-0123456789"))),
    );
    // The first 20 reach the key check (401); the rest are over the upgrade rate (429).
    expect(statuses.filter((status) => status === 401).length).toBeGreaterThanOrEqual(20);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThan(100);
    // Every warn line the endpoint wrote about a connection, whatever its message: a burst, not
    // one per refusal.
    const warnings = hub.logs.filter(
      (l) => l.level === 40 && l.component === "pixelstreaming" && l.address !== undefined,
    );
    expect(warnings.length).toBeLessThan(40);
    const lines = upgradeRefusals(hub);
    expect(lines.length).toBeGreaterThanOrEqual(20);
    expect(lines).toHaveLength(warnings.length);
    await hub.close();
    hubs.splice(hubs.indexOf(hub), 1);
    const held = lines.reduce((n, l) => n + ((l.suppressed as number | undefined) ?? 0), 0);
    const summaries = hub.logs.filter((l) => l.refusal === "Pixel Streaming upgrade refused");
    const summarised = summaries.reduce((n, l) => n + (l.suppressed as number), 0);
    expect(lines.length + held + summarised).toBe(150);
    expect(summaries.at(-1)).toMatchObject({
      suppressedByCode: { "too-many-upgrades": expect.any(Number) as unknown },
    });
  });
});

describe("the extra streamer port (pixelStreaming.streamerPort, Unreal's 8888)", () => {
  it("takes streamers on every path, with the same key check", async () => {
    const port = await freePort();
    const hub = await closedHub({ pixelStreaming: { enabled: true, streamerPort: port } });
    const base = `ws://127.0.0.1:${port}`;
    expect(await upgradeStatus(`${base}/`)).toBe(401);
    const { s, committedId } = await RawPs.streamer(`${base}/?key=${KEY}`, "DefaultStreamer");
    peers.push(s);
    expect(committedId).toBe("DefaultStreamer");
    const other = await RawPs.streamer(`${base}/anything/at/all?key=${KEY}`, "second");
    peers.push(other.s);
    expect(hub.hub.registry.listStreamers("pixelstreaming").map((x) => x.streamerId)).toEqual([
      "DefaultStreamer",
      "second",
    ]);
  });
});
