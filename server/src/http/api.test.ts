import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { SessionView, StreamerView } from "@heartline/shared/admin";
import { startHub, type TestHub } from "../testing/harness.js";
import { createHttpApp } from "./app.js";

const TOKEN = "admin-token-0123456789";
let hub: TestHub | undefined;
afterEach(async () => {
  await hub?.close();
  hub = undefined;
});

const bearer = (token = TOKEN) => ({ authorization: `Bearer ${token}` });

async function json(response: Response): Promise<unknown> {
  const body: unknown = await response.json();
  return body;
}

describe("health probes", () => {
  it("/healthz says the process is up", async () => {
    hub = await startHub();
    const response = await fetch(`${hub.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ status: "ok" });
  });

  it("/readyz is 200 while listening", async () => {
    hub = await startHub();
    const response = await fetch(`${hub.url}/readyz`);
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ status: "ready" });
  });

  it("/readyz is 503 naming each failing check (e.g. Redis in multi-node mode)", async () => {
    const app = createHttpApp({
      webClientDir: "/nonexistent",
      logger: pino({ level: "silent" }),
      readiness: [
        { name: "listening", check: () => true },
        { name: "redis", check: () => Promise.resolve("redis unreachable") },
        { name: "broken", check: () => Promise.reject(new Error("boom")) },
      ],
    });
    const server = createServer(app).listen(0, "127.0.0.1");
    await once(server, "listening");
    try {
      const { port } = server.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(response.status).toBe(503);
      expect(await json(response)).toEqual({
        status: "not-ready",
        failing: { redis: "redis unreachable", broken: "boom" },
      });
    } finally {
      server.close();
    }
  });
});

describe("GET /api/streamers (public)", () => {
  it("lists connected streamers with their player counts, without a token", async () => {
    hub = await startHub();
    await hub.session("cam1");
    const response = await fetch(`${hub.url}/api/streamers`);
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({
      streamers: [
        { streamerId: "cam1", players: 1, away: false, protocol: "heartline" },
      ] satisfies StreamerView[],
    });
  });
});

describe("admin endpoints", () => {
  it("answer 403 saying to set admin.token when it is unset", async () => {
    hub = await startHub();
    for (const [method, path] of [
      ["GET", "/api/sessions"],
      ["GET", "/api/config"],
      ["DELETE", "/api/sessions/x"],
      ["DELETE", "/api/streamers/x"],
    ] as const) {
      const response = await fetch(`${hub.url}${path}`, { method, headers: bearer() });
      expect(response.status, `${method} ${path}`).toBe(403);
      const body = (await json(response)) as { error: string; message: string };
      expect(body.error).toBe("admin-disabled");
      expect(body.message).toContain("admin.token");
    }
  });

  it("answer 401 to a missing or wrong token", async () => {
    hub = await startHub({ admin: { token: TOKEN } });
    const missing = await fetch(`${hub.url}/api/sessions`);
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(((await json(missing)) as { error: string }).error).toBe("unauthorized");
    const wrong = await fetch(`${hub.url}/api/sessions`, { headers: bearer("x".repeat(22)) });
    expect(wrong.status).toBe(401);
    const shorter = await fetch(`${hub.url}/api/sessions`, { headers: bearer("short") });
    expect(shorter.status).toBe(401);
    const notBearer = await fetch(`${hub.url}/api/sessions`, { headers: { authorization: TOKEN } });
    expect(notBearer.status).toBe(401);
  });

  it("GET /api/sessions lists sessions with state, age and the latest heartbeat data", async () => {
    hub = await startHub({ admin: { token: TOKEN } });
    const { s, p, sessionId } = await hub.session("cam1");
    s.send({ type: "ping", sessionId, time: 1, rttMs: 42, mediaRttMs: 7 });
    await p.next("ping");
    p.send({ type: "pong", sessionId, time: 1 });
    await p.next("sessionState", (m) => m.state === "live");

    const response = await fetch(`${hub.url}/api/sessions`, { headers: bearer() });
    expect(response.status).toBe(200);
    const { sessions } = (await json(response)) as { sessions: SessionView[] };
    expect(sessions).toHaveLength(1);
    const [session] = sessions;
    expect(session).toMatchObject({
      id: sessionId,
      streamerId: "cam1",
      state: "live",
      late: null,
      elsewhere: null,
      heartbeat: { rttMs: 42, mediaRttMs: 7 },
    });
    expect(session?.ageMs).toBeGreaterThanOrEqual(0);
    expect(Date.parse(session?.startedAt ?? "")).not.toBeNaN();
  });

  it("DELETE /api/sessions/:id ends the session as kicked on both ends and audit-logs it", async () => {
    hub = await startHub({ admin: { token: TOKEN } });
    const { s, p, sessionId } = await hub.session("cam1");
    const response = await fetch(`${hub.url}/api/sessions/${sessionId}`, {
      method: "DELETE",
      headers: bearer(),
    });
    expect(response.status).toBe(204);
    expect((await p.next("sessionClosed")).reason).toBe("kicked");
    expect((await s.next("sessionClosed")).reason).toBe("kicked");
    const audit = hub.logs.find((l) => l.audit === true && l.action === "end-session");
    expect(audit).toMatchObject({ sessionId, streamerId: "cam1", actor: { via: "api" } });
    expect((audit?.actor as { address: string }).address).toMatch(/127\.0\.0\.1/);

    const again = await fetch(`${hub.url}/api/sessions/${sessionId}`, {
      method: "DELETE",
      headers: bearer(),
    });
    expect(again.status).toBe(404);
    expect(((await json(again)) as { error: string }).error).toBe("not-found");
  });

  it("DELETE /api/streamers/:id kicks its sessions and disconnects it", async () => {
    hub = await startHub({ admin: { token: TOKEN } });
    const { s, p } = await hub.session("cam1");
    const disconnected = new Promise<string>((resolve) => s.socket.once("disconnect", resolve));
    const response = await fetch(`${hub.url}/api/streamers/cam1`, { method: "DELETE", headers: bearer() });
    expect(response.status).toBe(204);
    expect((await p.next("sessionClosed")).reason).toBe("kicked");
    expect(await disconnected).toBe("io server disconnect");
    await expect.poll(() => hub?.hub.registry.streamerCount).toBe(0);
    expect(hub.logs.some((l) => l.audit === true && l.action === "disconnect-streamer")).toBe(true);
    const unknown = await fetch(`${hub.url}/api/streamers/cam1`, { method: "DELETE", headers: bearer() });
    expect(unknown.status).toBe(404);
  });

  it("GET /api/config shows the running config with every secret redacted", async () => {
    const secrets = {
      streamerKey: "streamer-key-SECRET-0001",
      playerTokenSecret: "player-token-secret-SECRET-0123456789",
      turnSecret: "turn-secret-SECRET-0001",
      iceCredential: "ice-credential-SECRET",
    };
    hub = await startHub({
      admin: { token: TOKEN },
      auth: {
        open: true,
        streamerKeys: [{ key: secrets.streamerKey, streamerIds: ["cam1"] }],
        playerTokenSecret: secrets.playerTokenSecret,
      },
      turn: { urls: ["turn:turn.example.com"], secret: secrets.turnSecret },
      iceServers: [{ urls: "turn:t.example.com", username: "u", credential: secrets.iceCredential }],
    });
    const response = await fetch(`${hub.url}/api/config`, { headers: bearer() });
    expect(response.status).toBe(200);
    const text = await response.text();
    for (const secret of [...Object.values(secrets), TOKEN]) expect(text).not.toContain(secret);
    const config = JSON.parse(text) as Record<string, Record<string, unknown>>;
    expect(config.admin?.token).toBe("[redacted]");
    expect(config.turn?.secret).toBe("[redacted]");
    expect(config.auth?.playerTokenSecret).toBe("[redacted]");
    expect(config.auth?.streamerKeys).toEqual([{ key: "[redacted]", streamerIds: ["cam1"] }]);
    expect(config.heartbeat?.intervalMs).toBe(hub.config.heartbeat.intervalMs);
  });

  it("applies a token changed by a live reload at once", async () => {
    hub = await startHub({ admin: { token: TOKEN } });
    const next = structuredClone(hub.config);
    next.admin.token = "another-admin-token-42";
    hub.hub.reconfigure(next);
    expect((await fetch(`${hub.url}/api/sessions`, { headers: bearer() })).status).toBe(401);
    expect((await fetch(`${hub.url}/api/sessions`, { headers: bearer(next.admin.token) })).status).toBe(200);
  });
});

describe("/dashboard", () => {
  it("is served from the built web client, or explains how to build it", async () => {
    hub = await startHub({ webClientDir: "/nonexistent" });
    const response = await fetch(`${hub.url}/dashboard`);
    expect(response.status).toBe(503);
    expect(await response.text()).toContain("pnpm build");
  });

  it("redirects /dashboard/ to /dashboard (its assets are relative)", async () => {
    hub = await startHub();
    const response = await fetch(`${hub.url}/dashboard/`, { redirect: "manual" });
    expect(response.status).toBe(301);
    expect(response.headers.get("location")).toBe("/dashboard");
  });
});

describe("POST /api/player-token", () => {
  const SECRET = "player-token-secret-0123456789abcdef-xyz";

  it("issues a token that admits a player to a closed hub, restricted to the named streamer", async () => {
    hub = await startHub({
      admin: { token: TOKEN },
      auth: { open: false, playerTokenSecret: SECRET, streamerKeys: [{ key: "streamer-key-0123456789" }] },
    });
    const refused = await fetch(`${hub.url}/api/player-token`, { method: "POST" });
    expect(refused.status).toBe(401);

    const response = await fetch(`${hub.url}/api/player-token`, {
      method: "POST",
      headers: { ...bearer(), "content-type": "application/json" },
      body: JSON.stringify({ streamerId: "cam1", ttlSec: 600 }),
    });
    expect(response.status).toBe(201);
    const body = (await json(response)) as { token: string; expiresAt: string; playerPath: string };
    expect(body.playerPath).toBe(`/?streamer=cam1&token=${body.token}`);
    const left = Date.parse(body.expiresAt) - Date.now();
    expect(left).toBeGreaterThan(590_000);
    expect(left).toBeLessThanOrEqual(600_000);

    await hub.streamer("cam1", { key: "streamer-key-0123456789" });
    const player = await hub.player({ token: body.token });
    player.send({ type: "subscribe", streamerId: "cam1" });
    expect(await player.next("sessionStarted")).toMatchObject({ streamerId: "cam1" });
  });

  it("answers 400 to a bad body and 409 when no token secret is configured", async () => {
    hub = await startHub({ admin: { token: TOKEN } });
    const bad = await fetch(`${hub.url}/api/player-token`, {
      method: "POST",
      headers: { ...bearer(), "content-type": "application/json" },
      body: JSON.stringify({ streamerId: "../x" }),
    });
    expect(bad.status).toBe(400);
    expect(await json(bad)).toMatchObject({
      error: "invalid-request",
      message: expect.stringMatching(/^streamerId/) as unknown,
    });
    const noSecret = await fetch(`${hub.url}/api/player-token`, {
      method: "POST",
      headers: { ...bearer(), "content-type": "application/json" },
      body: "{}",
    });
    expect(noSecret.status).toBe(409);
  });
});

describe("security headers", () => {
  it("serves a same-origin content policy, no framing and no sniffing, without forcing HTTPS on plain HTTP", async () => {
    hub = await startHub();
    const response = await fetch(`${hub.url}/healthz`);
    const csp = response.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'self'");
    expect(csp).not.toContain("upgrade-insecure-requests");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("strict-transport-security")).toBeNull();
    expect(response.headers.get("x-powered-by")).toBeNull();
  });

  it("never answers with a stack trace", async () => {
    hub = await startHub({ admin: { token: TOKEN } });
    const response = await fetch(`${hub.url}/api/player-token`, {
      method: "POST",
      headers: { ...bearer(), "content-type": "application/json" },
      body: "{ not json",
    });
    const text = await response.text();
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(text).not.toMatch(/at .*\.(js|ts):\d+/);
    expect(text).not.toContain("SyntaxError");
  });
});

describe("malformed requests", () => {
  const SECRET = "player-token-secret-0123456789abcdef-xyz";
  const post = (url: string, body: string, headers: Record<string, string> = bearer()) =>
    fetch(`${url}/api/player-token`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body,
    });
  const refusedLines = (h: TestHub) => h.logs.filter((l) => l.msg === "http request refused");

  it("answer 400 invalid-json to a malformed body, with a warn line and no stack", async () => {
    hub = await startHub({ admin: { token: TOKEN }, auth: { open: false, playerTokenSecret: SECRET } });
    const response = await post(hub.url, "{ not json");
    expect(response.status).toBe(400);
    expect(await json(response)).toEqual({
      error: "invalid-json",
      message: "the request body is not valid JSON",
    });
    const lines = refusedLines(hub);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 40,
      status: 400,
      code: "invalid-json",
      path: "/api/player-token",
    });
    expect(lines[0]).not.toHaveProperty("err");
    expect(hub.logs.filter((l) => (l.level as number) >= 50)).toEqual([]);
  });

  it("check the admin token before reading the body", async () => {
    hub = await startHub({ admin: { token: TOKEN }, auth: { open: false, playerTokenSecret: SECRET } });
    expect((await post(hub.url, "{ not json", {})).status).toBe(401);
    expect((await post(hub.url, "x".repeat(30_000), bearer("wrong-token-0123456789"))).status).toBe(401);
    expect(refusedLines(hub)).toEqual([]);
  });

  it("apply the token route's own 4 KB limit: a 10 KB body gets 413 body-too-large", async () => {
    hub = await startHub({ admin: { token: TOKEN }, auth: { open: false, playerTokenSecret: SECRET } });
    const body = JSON.stringify({ streamerId: "cam1", padding: "x".repeat(10_000) });
    const response = await post(hub.url, body);
    expect(response.status).toBe(413);
    expect(await json(response)).toMatchObject({ error: "body-too-large" });
    expect(refusedLines(hub)[0]).toMatchObject({ status: 413, code: "body-too-large" });
    // Just under the limit is read (and then judged by its fields).
    expect((await post(hub.url, JSON.stringify({ streamerId: "cam1" }))).status).toBe(201);
  });

  it("answer 400 invalid-url to a malformed %-escape", async () => {
    hub = await startHub({ admin: { token: TOKEN } });
    const response = await fetch(`${hub.url}/api/sessions/%E0%A4%A`, { method: "DELETE", headers: bearer() });
    expect(response.status).toBe(400);
    expect(await json(response)).toMatchObject({ error: "invalid-url" });
    expect(refusedLines(hub)[0]).toMatchObject({ status: 400, code: "invalid-url" });
    expect(hub.logs.filter((l) => (l.level as number) >= 50)).toEqual([]);
  });
});

describe("admin-token guesses", () => {
  it("lock an address out after 10 wrong tokens (429, even with the right one), each refusal audit-logged", async () => {
    hub = await startHub({ admin: { token: TOKEN } });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i += 1) {
      statuses.push(
        (await fetch(`${hub.url}/api/sessions`, { headers: bearer(`guess-${i}-0123456789`) })).status,
      );
    }
    expect(statuses).toEqual([...Array<number>(10).fill(401), 429, 429]);
    const locked = await fetch(`${hub.url}/api/sessions`, { headers: bearer() });
    expect(locked.status).toBe(429);
    expect(locked.headers.get("retry-after")).toBe("60");
    expect(await json(locked)).toMatchObject({ error: "too-many-attempts" });
    const lines = hub.logs.filter((l) => l.msg === "admin request refused");
    expect(lines).toHaveLength(13);
    expect(lines[0]).toMatchObject({ audit: true, code: "unauthorized", address: "127.0.0.1" });
    expect(lines.at(-1)).toMatchObject({ code: "too-many-attempts" });
  });

  it("a right token resets the count; the dashboard namespace shares the lockout", async () => {
    hub = await startHub({ admin: { token: TOKEN } });
    for (let i = 0; i < 9; i += 1)
      await fetch(`${hub.url}/api/sessions`, { headers: bearer(`guess-${i}-0123456789`) });
    expect((await fetch(`${hub.url}/api/sessions`, { headers: bearer() })).status).toBe(200);
    for (let i = 0; i < 10; i += 1)
      await fetch(`${hub.url}/api/sessions`, { headers: bearer(`guess-${i}-0123456789`) });
    expect((await fetch(`${hub.url}/api/sessions`, { headers: bearer() })).status).toBe(429);
    const { io } = await import("socket.io-client");
    const socket = io(`${hub.url}/admin`, {
      transports: ["websocket"],
      auth: { token: TOKEN },
      reconnection: false,
      forceNew: true,
    });
    const code = await new Promise<string>((resolve) => {
      socket.on("connect", () => {
        resolve("connected");
      });
      socket.on("connect_error", (error) => {
        resolve(error.message);
      });
    });
    socket.disconnect();
    expect(code).toBe("too-many-attempts");
  });
});

describe("refusal lines", () => {
  it("are throttled: a flood of 300 refused handshakes writes a burst, then a count of the rest", async () => {
    const { refusedHandshake } = await import("../testing/harness.js");
    hub = await startHub({ auth: { open: false, streamerKeys: [{ key: "streamer-key-0123456789" }] } });
    const h = hub;
    await Promise.all(
      Array.from({ length: 300 }, () => refusedHandshake(h.url, { role: "streamer", streamerId: "cam1" })),
    );
    const lines = h.logs.filter((l) => l.msg === "handshake refused");
    expect(lines.length).toBeGreaterThanOrEqual(20);
    expect(lines.length).toBeLessThan(40);
    await h.close();
    hub = undefined;
    const held = lines.reduce((n, l) => n + ((l.suppressed as number | undefined) ?? 0), 0);
    const summaries = h.logs.filter((l) => l.refusal === "handshake refused");
    const summarised = summaries.reduce((n, l) => n + (l.suppressed as number), 0);
    expect(lines.length + held + summarised).toBe(300);
    expect(summaries.at(-1)).toMatchObject({
      suppressedByCode: { unauthorized: expect.any(Number) as unknown },
    });
  });
});
