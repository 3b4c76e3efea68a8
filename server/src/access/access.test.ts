/**
 * Integration: who gets in and how much they may do, against a real hub with real socket.io
 * clients. Each refusal is checked next to the matching acceptance, so a policy that refused
 * everything would fail too.
 */
import { createHmac } from "node:crypto";
import { SignJWT } from "jose";
import { io, type Socket } from "socket.io-client";
import { afterEach, describe, expect, it } from "vitest";
import { refusedHandshake, sleep, startHub, TestPeer, type TestHub } from "../testing/harness.js";

const KEY = "streamer-key-0123456789";
const BOUND_KEY = "bound-key-0123456789abcdef";
const SECRET = "player-token-secret-0123456789abcdef-xyz";

let hub: TestHub | undefined;
afterEach(async () => {
  await hub?.close();
  hub = undefined;
});

async function closedHub(extra: Record<string, unknown> = {}): Promise<TestHub> {
  hub = await startHub({
    auth: {
      open: false,
      streamerKeys: [{ key: KEY }, { key: BOUND_KEY, streamerIds: ["cam-bound"] }],
      playerTokenSecret: SECRET,
    },
    ...extra,
  });
  return hub;
}

/** Connects with extra handshake headers (Origin); resolves to "connected" or the refusal code. */
function connectWith(url: string, auth: object, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve) => {
    const socket = io(url, {
      transports: ["websocket"],
      auth,
      extraHeaders: headers,
      reconnection: false,
      forceNew: true,
    });
    socket.on("connect", () => {
      socket.disconnect();
      resolve("connected");
    });
    socket.on("connect_error", (error) => {
      socket.disconnect();
      resolve(error.message);
    });
  });
}

describe("streamer keys", () => {
  it("refuses a streamer without a key or with a wrong one, and admits the right key", async () => {
    const h = await closedHub();
    expect(await refusedHandshake(h.url, { role: "streamer", streamerId: "cam1" })).toBe("unauthorized");
    expect(
      await refusedHandshake(h.url, { role: "streamer", streamerId: "cam1", key: "wrong-key-0123456789" }),
    ).toBe("unauthorized");
    const s = await h.streamer("cam1", { key: KEY });
    expect(s.socket.connected).toBe(true);
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toContain('heartline_handshake_refusals_total{code="unauthorized"} 2');
  });

  it("a key bound to streamer ids opens only those ids", async () => {
    const h = await closedHub();
    expect(await refusedHandshake(h.url, { role: "streamer", streamerId: "cam-other", key: BOUND_KEY })).toBe(
      "unauthorized",
    );
    await h.streamer("cam-bound", { key: BOUND_KEY });
  });

  it("lets a streamer resume with its resume token alone", async () => {
    const h = await closedHub();
    const s = await h.streamer("cam1", { key: KEY });
    const token = s.resumeToken;
    await s.drop();
    const back = await h.streamer("cam1", { resumeToken: token });
    expect(await back.next("resumed")).toEqual({ type: "resumed", sessionIds: [] });
  });
});

describe("player tokens", () => {
  it("refuses a player without a token, with a forged one or an expired one, and admits an issued one", async () => {
    const h = await closedHub();
    expect(await refusedHandshake(h.url, { role: "player" })).toBe("unauthorized");
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer("heartline")
      .setAudience("heartline-player")
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode("another-secret-0123456789abcdef-000"));
    expect(await refusedHandshake(h.url, { role: "player", token: forged })).toBe("unauthorized");
    const expired = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer("heartline")
      .setAudience("heartline-player")
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(new TextEncoder().encode(SECRET));
    expect(await refusedHandshake(h.url, { role: "player", token: expired })).toBe("unauthorized");
    const noneAlg = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from('{"exp":9999999999}').toString("base64url")}.`;
    expect(await refusedHandshake(h.url, { role: "player", token: noneAlg })).toBe("unauthorized");

    const token = await h.hub.access.issuePlayerToken({});
    const p = await h.player({ token });
    expect(p.socket.connected).toBe(true);
  });

  it("a token for one streamer subscribes to that streamer only", async () => {
    const h = await closedHub();
    await h.streamer("cam1", { key: KEY });
    await h.streamer("cam2", { key: KEY });
    const p = await h.player({ token: await h.hub.access.issuePlayerToken({ streamerId: "cam1" }) });
    p.send({ type: "subscribe", streamerId: "cam2" });
    expect(await p.next("error")).toMatchObject({ code: "not-allowed" });
    p.send({ type: "subscribe", streamerId: "cam1" });
    expect(await p.next("sessionStarted")).toMatchObject({ streamerId: "cam1" });
  });
});

/** A refused handshake's code and sentence. */
function refusedWith(url: string, auth: object): Promise<{ code: string; message: string }> {
  return new Promise((resolve, reject) => {
    const socket = io(url, { transports: ["websocket"], auth, reconnection: false, forceNew: true });
    socket.on("connect", () => {
      socket.disconnect();
      reject(new Error("handshake was accepted"));
    });
    socket.on("connect_error", (error) => {
      socket.disconnect();
      const { data } = error as unknown as { data: { code: string; message: string } };
      resolve(data);
    });
  });
}

describe("resume tokens", () => {
  it("rotate on every resume: the new one is in the config, the old one resumes nothing", async () => {
    const h = await startHub();
    hub = h;
    const { p, sessionId } = await h.session("cam1");
    const first = p.resumeToken;
    await p.drop();
    const back = await h.player({ resumeToken: first });
    expect(await back.next("resumed")).toEqual({ type: "resumed", sessionIds: [sessionId] });
    const second = back.resumeToken;
    expect(second).not.toBe(first);
    await back.drop();
    // A copy of the old token (stolen, replayed) takes nothing over.
    const thief = await h.player({ resumeToken: first });
    expect(await thief.next("resumed")).toEqual({ type: "resumed", sessionIds: [] });
    const again = await h.player({ resumeToken: second });
    expect(await again.next("resumed")).toEqual({ type: "resumed", sessionIds: [sessionId] });
  });

  it("resume nothing once the player token the peer was admitted with has expired", async () => {
    const h = await closedHub();
    await h.streamer("cam1", { key: KEY });
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer("heartline")
      .setAudience("heartline-player")
      .setExpirationTime(Math.floor(Date.now() / 1000) + 2)
      .sign(new TextEncoder().encode(SECRET));
    const p = await h.player({ token });
    const resumeToken = p.resumeToken;
    await p.drop();
    await sleep(3100);
    const refused = await refusedWith(h.url, { role: "player", resumeToken });
    expect(refused.code).toBe("unauthorized");
    expect(refused.message).toMatch(/cannot resume.*expired/);
  });

  it("resume nothing once the streamer key was removed by a reload", async () => {
    const h = await closedHub();
    const s = await h.streamer("cam1", { key: KEY });
    const resumeToken = s.resumeToken;
    await s.drop();
    const next = structuredClone(h.config);
    next.auth.streamerKeys = [{ key: BOUND_KEY, streamerIds: ["cam-bound"] }];
    h.hub.reconfigure(next);
    const refused = await refusedWith(h.url, { role: "streamer", streamerId: "cam1", resumeToken });
    expect(refused).toMatchObject({ code: "unauthorized" });
    expect(refused.message).toMatch(/^cannot resume.*not one of the hub's keys/);
  });
});

describe("refusals say exactly what was wrong", () => {
  it("open mode refuses a wrong streamer key, as it refuses a bad player token, each saying so", async () => {
    const h = await startHub({ auth: { open: true, streamerKeys: [{ key: KEY }] } });
    hub = h;
    const wrongKey = await refusedWith(h.url, {
      role: "streamer",
      streamerId: "cam1",
      key: "wrong-key-0123456789",
    });
    expect(wrongKey.code).toBe("unauthorized");
    expect(wrongKey.message).toContain("not one of the hub's keys");
    const badToken = await refusedWith(h.url, { role: "player", token: "not-a-jwt" });
    expect(badToken.code).toBe("unauthorized");
    expect(badToken.message).toContain("player token");
    // Without a key or token, open mode still admits both.
    await h.streamer("cam1");
    await h.player();
  });

  it("a malformed resume token is named in the refusal", async () => {
    const h = await startHub();
    hub = h;
    const refused = await refusedWith(h.url, { role: "player", resumeToken: "short" });
    expect(refused.code).toBe("invalid-handshake");
    expect(refused.message).toContain("auth.resumeToken");
  });

  it("an expired player token is told apart from a forged one", async () => {
    const h = await closedHub();
    const expired = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer("heartline")
      .setAudience("heartline-player")
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(new TextEncoder().encode(SECRET));
    expect((await refusedWith(h.url, { role: "player", token: expired })).message).toContain("expired");
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer("heartline")
      .setAudience("heartline-player")
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode("another-secret-0123456789abcdef-000"));
    expect((await refusedWith(h.url, { role: "player", token: forged })).message).toContain("signature");
  });
});

describe("origins", () => {
  it("admits the hub's own origin and allowed ones by exact match; refuses null and look-alikes", async () => {
    const h = await startHub({ allowedOrigins: ["https://play.example.com"] });
    const own = h.url; // http://127.0.0.1:PORT
    const player = { role: "player" };
    expect(await connectWith(h.url, player, { origin: own })).toBe("connected");
    expect(await connectWith(h.url, player, { origin: "https://play.example.com" })).toBe("connected");
    expect(await connectWith(h.url, player, {})).toBe("connected"); // not a browser
    for (const origin of [
      "null",
      "https://evil.example",
      "https://play.example.com.evil.example",
      "https://play.example.com:8443",
      "http://play.example.com",
      `${own}.evil.example`,
      own.replace("127.0.0.1", "localhost"),
    ]) {
      expect(await connectWith(h.url, player, { origin }), origin).toBe("origin-not-allowed");
    }
    hub = h;
  });
});

describe("the Host header (DNS rebinding)", () => {
  it("does not make a forged Host the hub's own origin: only an IP or localhost Host, or allowedOrigins", async () => {
    const h = await startHub();
    hub = h;
    const { port } = new URL(h.url);
    const player = { role: "player" };
    // A page at evil.example that rebinds evil.example to the hub sends a matching Host and Origin.
    const rebound = `http://evil.example:${port}`;
    expect(await connectWith(h.url, player, { host: `evil.example:${port}`, origin: rebound })).toBe(
      "origin-not-allowed",
    );
    expect(
      await connectWith(h.url, player, { host: `localhost:${port}`, origin: `http://localhost:${port}` }),
    ).toBe("connected");
    expect(await connectWith(h.url, player, { origin: h.url })).toBe("connected");
    // A hub reached by a name lists that origin (a live reload applies it).
    const next = structuredClone(h.config);
    next.allowedOrigins = [`http://hub.example:${port}`];
    h.hub.reconfigure(next);
    expect(
      await connectWith(h.url, player, { host: `hub.example:${port}`, origin: `http://hub.example:${port}` }),
    ).toBe("connected");
  });

  it("guards the /admin namespace by Origin too", async () => {
    const h = await startHub({ admin: { token: "admin-token-0123456789" } });
    hub = h;
    const { port } = new URL(h.url);
    const open = (headers: Record<string, string>): Promise<string> =>
      new Promise((resolve) => {
        const socket = io(`${h.url}/admin`, {
          transports: ["websocket"],
          auth: { token: "admin-token-0123456789" },
          extraHeaders: headers,
          reconnection: false,
          forceNew: true,
        });
        socket.on("connect", () => {
          socket.disconnect();
          resolve("connected");
        });
        socket.on("connect_error", (error) => {
          socket.disconnect();
          resolve(error.message);
        });
      });
    expect(await open({ origin: "https://evil.example" })).toBe("origin-not-allowed");
    expect(await open({ host: `evil.example:${port}`, origin: `http://evil.example:${port}` })).toBe(
      "origin-not-allowed",
    );
    expect(await open({ origin: h.url })).toBe("connected");
    expect(await open({})).toBe("connected");
  });
});

describe("behind a reverse proxy", () => {
  it("with trustProxy, judges Origin by X-Forwarded-Proto and counts connections by X-Forwarded-For", async () => {
    // Two proxies: the socket's peer and 10.0.0.1 in front of it.
    const h = await startHub({ trustProxy: 2, limits: { connectionsPerIp: 1 } });
    hub = h;
    const httpsOwn = h.url.replace("http://", "https://");
    expect(
      await connectWith(h.url, { role: "player" }, { origin: httpsOwn, "x-forwarded-proto": "https" }),
    ).toBe("connected");
    // Two clients behind the same proxies are two addresses, not one.
    const a = await connectWith(h.url, { role: "player" }, { "x-forwarded-for": "203.0.113.1, 10.0.0.1" });
    const b = await connectWith(h.url, { role: "player" }, { "x-forwarded-for": "203.0.113.2, 10.0.0.1" });
    expect([a, b]).toEqual(["connected", "connected"]);
  });

  it("with trustProxy, a client cannot dodge the per-address limit by writing X-Forwarded-For itself", async () => {
    const h = await startHub({ trustProxy: true, limits: { connectionsPerIp: 2 } });
    hub = h;
    // The proxy appends the address it saw (here: always 203.0.113.5); the left-most is the client's own.
    const held: Socket[] = [];
    const results: string[] = [];
    for (let i = 0; i < 4; i += 1) {
      const socket = io(h.url, {
        transports: ["websocket"],
        auth: { role: "player" },
        extraHeaders: { "x-forwarded-for": `198.51.100.${i}, 203.0.113.5` },
        reconnection: false,
        forceNew: true,
      });
      held.push(socket);
      results.push(
        await new Promise<string>((resolve) => {
          socket.once("connect", () => {
            resolve("connected");
          });
          socket.once("connect_error", (error) => {
            resolve(error.message);
          });
        }),
      );
    }
    for (const socket of held) socket.disconnect();
    expect(results).toEqual(["connected", "connected", "too-many-connections", "too-many-connections"]);
  });

  it("without trustProxy, ignores forwarded headers a client could forge", async () => {
    const h = await startHub({ limits: { connectionsPerIp: 1 } });
    hub = h;
    const held = await h.player();
    expect(await connectWith(h.url, { role: "player" }, { "x-forwarded-for": "203.0.113.9" })).toBe(
      "too-many-connections",
    );
    expect(
      await connectWith(
        h.url,
        { role: "player" },
        { origin: h.url.replace("http://", "https://"), "x-forwarded-proto": "https" },
      ),
    ).toBe("origin-not-allowed");
    held.close();
  });
});

describe("limits", () => {
  it("refuses connections past limits.connectionsPerIp, and admits again when one leaves", async () => {
    const h = await startHub({ limits: { connectionsPerIp: 3 } });
    hub = h;
    const peers = [await h.player(), await h.player(), await h.player()];
    expect(await refusedHandshake(h.url, { role: "player" })).toBe("too-many-connections");
    peers[0]?.close();
    await sleep(100);
    await h.player();
  });

  it("refuses a player past maxPlayers with streamer-full", async () => {
    const h = await startHub({ maxPlayers: 1 });
    hub = h;
    await h.session("cam1");
    const p = await h.player();
    p.send({ type: "subscribe", streamerId: "cam1" });
    expect(await p.next("error")).toMatchObject({ code: "streamer-full" });
  });

  it("refuses subscriptions past limits.subscriptionsPerPlayer", async () => {
    const h = await startHub({ limits: { subscriptionsPerPlayer: 2 } });
    hub = h;
    await h.streamer("cam1");
    const p = await h.player();
    for (let i = 0; i < 2; i++) {
      p.send({ type: "subscribe", streamerId: "cam1" });
      await p.next("sessionStarted");
    }
    p.send({ type: "subscribe", streamerId: "cam1" });
    expect(await p.next("error")).toMatchObject({ code: "too-many-subscriptions" });
  });

  it("refuses a token's sessions past limits.sessionsPerToken, whatever socket presents it", async () => {
    const h = await closedHub({ limits: { sessionsPerToken: 2, subscriptionsPerPlayer: 4 } });
    await h.streamer("cam1", { key: KEY });
    const token = await h.hub.access.issuePlayerToken({});
    const [a, b] = [await h.player({ token }), await h.player({ token })];
    a.send({ type: "subscribe", streamerId: "cam1" });
    const first = await a.next("sessionStarted");
    b.send({ type: "subscribe", streamerId: "cam1" });
    await b.next("sessionStarted");
    const c = await h.player({ token });
    c.send({ type: "subscribe", streamerId: "cam1" });
    const refused = await c.next("error");
    expect(refused).toMatchObject({ code: "token-sessions-full" });
    expect(refused.message).toContain("limits.sessionsPerToken");
    // Another link is another token.
    const other = await h.player({ token: await h.hub.access.issuePlayerToken({}) });
    other.send({ type: "subscribe", streamerId: "cam1" });
    await other.next("sessionStarted");
    // A session ending frees its place.
    a.send({ type: "unsubscribe", sessionId: first.sessionId });
    await a.next("sessionClosed");
    c.send({ type: "subscribe", streamerId: "cam1" });
    await c.next("sessionStarted");
  });

  it("admits at most limits.connectionsPerIp of 150 simultaneous CONNECTs (the token check is asynchronous)", async () => {
    const h = await closedHub({ limits: { connectionsPerIp: 100 } });
    const token = await h.hub.access.issuePlayerToken({});
    const sockets: Socket[] = [];
    const results = await Promise.all(
      Array.from({ length: 150 }, () => {
        const socket = io(h.url, {
          transports: ["websocket"],
          auth: { role: "player", token },
          reconnection: false,
          forceNew: true,
        });
        sockets.push(socket);
        return new Promise<string>((resolve) => {
          socket.once("connect", () => {
            resolve("connected");
          });
          socket.once("connect_error", (error) => {
            resolve(error.message);
          });
        });
      }),
    );
    for (const socket of sockets) socket.disconnect();
    const admitted = results.filter((r) => r === "connected").length;
    expect(admitted).toBeLessThanOrEqual(100);
    expect(results.filter((r) => r !== "connected").every((r) => r === "too-many-connections")).toBe(true);
  });

  it("rate-limits a flooding socket (one error, messages dropped) without touching another session", async () => {
    const h = await startHub({ limits: { messagesPerSecond: 20, messageBurst: 10, maxViolations: 10_000 } });
    hub = h;
    const a = await h.session("cam1");
    const b = await h.session("cam2");
    for (let i = 0; i < 300; i++) a.s.send({ type: "ping", sessionId: a.sessionId, time: i });
    await sleep(300);
    const relayed = a.p.received.filter((m) => m.type === "ping").length;
    expect(relayed).toBeGreaterThanOrEqual(10);
    expect(relayed).toBeLessThan(30);
    expect(a.s.received.filter((m) => m.type === "error" && m.code === "rate-limited")).toHaveLength(1);
    b.s.send({ type: "ping", sessionId: b.sessionId, time: 1 });
    expect(await b.p.next("ping")).toMatchObject({ time: 1 });
  });

  it("disconnects a socket after limits.maxViolations refused messages", async () => {
    const h = await startHub({ limits: { maxViolations: 5 } });
    hub = h;
    const other = await h.session("cam1");
    const offender = await h.player();
    const gone = new Promise<string>((resolve) => offender.socket.once("disconnect", resolve));
    for (let i = 0; i < 5; i++) offender.send({ type: "garbage" });
    expect(await gone).toBe("io server disconnect");
    other.s.send({ type: "ping", sessionId: other.sessionId, time: 2 });
    expect(await other.p.next("ping")).toMatchObject({ time: 2 });
  });
});

describe("streamer churn (open mode)", () => {
  it("pushes the streamer list at once for 5 changes, then at most every 500 ms, each list with every change so far", async () => {
    const h = await startHub();
    hub = h;
    const p = await h.player();
    const started = performance.now();
    for (let i = 0; i < 20; i += 1) await h.streamer(`cam${i}`);
    const elapsed = performance.now() - started;
    const last = await p.next("streamerList", (m) => m.streamers.length === 20, 3000);
    expect(last.streamers.map((s) => s.streamerId).sort()).toEqual(
      Array.from({ length: 20 }, (_, i) => `cam${i}`).sort(),
    );
    const lists = p.seen.filter((m) => m.type === "streamerList").length;
    // Five at once, then one per 500 ms at most (plus the trailing one), not one per streamer.
    expect(lists).toBeLessThanOrEqual(6 + Math.ceil(elapsed / 500));
    expect(lists).toBeLessThan(20);
  });
});

describe("TURN credentials", () => {
  it("gives each peer short-lived TURN REST credentials that the TURN server can recompute", async () => {
    const secret = "turn-shared-secret-0123";
    const h = await startHub({
      iceServers: [{ urls: "stun:127.0.0.1:3478" }],
      turn: { urls: ["turn:127.0.0.1:3478"], secret, ttlSec: 600 },
    });
    hub = h;
    const p = new TestPeer(h.url, { role: "player" });
    const config = await p.next("config");
    p.close();
    expect(config.iceServers[0]).toEqual({ urls: "stun:127.0.0.1:3478" });
    const turn = config.iceServers[1];
    expect(turn?.urls).toEqual(["turn:127.0.0.1:3478"]);
    const [expiry, peerId] = (turn?.username ?? "").split(":");
    expect(peerId).toBe(config.peerId);
    const secondsLeft = Number(expiry) - Date.now() / 1000;
    expect(secondsLeft).toBeGreaterThan(590);
    expect(secondsLeft).toBeLessThanOrEqual(600);
    expect(turn?.credential).toBe(
      createHmac("sha1", secret)
        .update(turn?.username ?? "")
        .digest("base64"),
    );
  });

  it("sends no TURN entry without a secret", async () => {
    const h = await startHub({ turn: { urls: ["turn:127.0.0.1:3478"] } });
    hub = h;
    const p = new TestPeer(h.url, { role: "player" });
    expect((await p.next("config")).iceServers).toEqual([]);
    p.close();
  });
});
