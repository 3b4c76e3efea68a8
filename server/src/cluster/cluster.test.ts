/**
 * Integration: several hubs sharing a real redis-server (Debian's, on a loopback port), with
 * real socket.io clients. A short heartbeat keeps timeouts to a fraction of a second.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { Redis } from "ioredis";
import { io as connectSocket } from "socket.io-client";
import { RedisServer } from "@heartline/shared/testing";
import { encodeFrame } from "./ClusterBus.js";
import { refusedHandshake, sleep, startHub, TestPeer, type TestHub } from "../testing/harness.js";

const INTERVAL = 200;
const MISSED = 3;
const TIMEOUT = INTERVAL * MISSED;

let redis: RedisServer;
const hubs: TestHub[] = [];
let prefix = 0;
/** Each test gets its own cluster (key prefix) on the one Redis. */
let keyPrefix = "";

beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(async () => {
  await redis.stop();
});
afterEach(async () => {
  if (!redis.running) await redis.restart();
  await Promise.all(hubs.splice(0).map((hub) => hub.close()));
});

const ADMIN_TOKEN = "cluster-test-admin-token";
const CLUSTER_SECRET = "cluster-test-secret-0123456789abcdef";

async function node(
  nodeId: string,
  {
    requestTimeoutMs = 3000,
    intervalMs = INTERVAL,
    auth,
  }: { requestTimeoutMs?: number; intervalMs?: number; auth?: Record<string, unknown> } = {},
): Promise<TestHub> {
  if (hubs.length === 0) keyPrefix = `t${String(++prefix)}`;
  const hub = await startHub({
    heartbeat: { intervalMs, missedBeats: MISSED },
    cluster: { redisUrl: redis.url, keyPrefix, nodeId, requestTimeoutMs, secret: CLUSTER_SECRET },
    admin: { token: ADMIN_TOKEN },
    ...(auth && { auth }),
  });
  hubs.push(hub);
  return hub;
}

/** Waits until `check` passes (polling), or fails with what it last threw. */
const eventually = (check: () => void | Promise<void>, timeoutMs = 5000): Promise<void> =>
  vi.waitFor(check, { timeout: timeoutMs, interval: 25 });

/** One unlabelled sample from the hub's /metrics. */
async function metric(hub: TestHub, name: string): Promise<number> {
  const text = await (await fetch(`${hub.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`${name} is not in /metrics`);
  return Number(line.slice(name.length + 1));
}

/** Waits until `hub` hears `others` other nodes beat. */
async function joined(hub: TestHub, others: number): Promise<void> {
  await eventually(() => {
    expect(hub.hub.cluster?.nodeCount).toBe(others);
  });
}

/** A player on `hub` that sees `streamerId` listed. */
async function playerSeeing(hub: TestHub, streamerId: string): Promise<TestPeer> {
  const p = await hub.player();
  await eventually(async () => {
    p.send({ type: "listStreamers" });
    const list = await p.next("streamerList");
    expect(list.streamers.map((s) => s.streamerId)).toContain(streamerId);
  });
  return p;
}

/** A session between a streamer on `a` and a player on `b`. */
async function crossNodeSession(a: TestHub, b: TestHub, streamerId = "cam1") {
  const s = await a.streamer(streamerId);
  const p = await playerSeeing(b, streamerId);
  p.send({ type: "subscribe", streamerId });
  const started = await p.next("sessionStarted");
  const joinedMessage = await s.next("playerJoined");
  expect(joinedMessage.sessionId).toBe(started.sessionId);
  return { s, p, sessionId: started.sessionId };
}

/** Streamer pings, player answers, at the heartbeat interval, until stopped. */
function heartbeat(s: TestPeer, p: TestPeer, sessionId: string, options: { playerAnswers: () => boolean }) {
  let running = true;
  let time = 0;
  const answer = (message: { type: string; time?: number; sessionId?: string }): void => {
    if (message.type === "ping" && message.sessionId === sessionId && options.playerAnswers()) {
      p.send({ type: "pong", sessionId, time: message.time });
    }
  };
  p.socket.on("message", answer);
  const loop = async (): Promise<void> => {
    while (running) {
      s.send({ type: "ping", sessionId, time: ++time });
      await sleep(INTERVAL);
    }
  };
  void loop();
  return () => {
    running = false;
    p.socket.off("message", answer);
  };
}

describe("cross-node sessions", () => {
  it("a player on one node watches a streamer on another: SDP, ICE and heartbeats relay both ways", async () => {
    const a = await node("a");
    const b = await node("b");
    await joined(b, 1);
    const { s, p, sessionId } = await crossNodeSession(a, b);

    s.send({ type: "offer", sessionId, sdp: "v=0 offer" });
    expect(await p.next("offer")).toEqual({ type: "offer", sessionId, sdp: "v=0 offer" });
    p.send({ type: "answer", sessionId, sdp: "v=0 answer" });
    expect(await s.next("answer")).toEqual({ type: "answer", sessionId, sdp: "v=0 answer" });
    const candidate = {
      candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host",
      sdpMid: "0",
      sdpMLineIndex: 0,
    };
    s.send({ type: "iceCandidate", sessionId, candidate });
    expect(await p.next("iceCandidate")).toMatchObject({ sessionId, candidate });
    p.send({ type: "iceCandidate", sessionId, candidate });
    expect(await s.next("iceCandidate")).toMatchObject({ sessionId, candidate });

    s.send({ type: "ping", sessionId, time: 42 });
    expect(await p.next("ping")).toMatchObject({ sessionId, time: 42 });
    p.send({ type: "pong", sessionId, time: 42 });
    expect(await s.next("pong")).toMatchObject({ sessionId, time: 42 });
    // The round trip proves the session on both nodes.
    expect(await s.next("sessionState")).toEqual({ type: "sessionState", sessionId, state: "live" });
    expect(await p.next("sessionState")).toEqual({ type: "sessionState", sessionId, state: "live" });

    // Each node's operator sees the session with the end the other node holds.
    const view = async (hub: TestHub): Promise<unknown> =>
      await (
        await fetch(`${hub.url}/api/sessions`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
      ).json();
    expect(await view(a)).toMatchObject({
      sessions: [{ id: sessionId, elsewhere: { end: "player", nodeId: "b" } }],
    });
    expect(await view(b)).toMatchObject({
      sessions: [{ id: sessionId, elsewhere: { end: "streamer", nodeId: "a" } }],
    });
    p.send({ type: "unsubscribe", sessionId });
    expect(await s.next("sessionClosed")).toEqual({
      type: "sessionClosed",
      sessionId,
      reason: "unsubscribed",
    });
    expect(await p.next("sessionClosed")).toEqual({
      type: "sessionClosed",
      sessionId,
      reason: "unsubscribed",
    });
    // Both halves are gone: nothing leaks on either node.
    await eventually(() => {
      expect(a.hub.registry.sessionCount + b.hub.registry.sessionCount).toBe(0);
      expect(a.hub.registry.watchedCount + b.hub.registry.watchedCount).toBe(0);
    });
  });

  it("the streamer's node decides its streamer's lapse; the player's node tells its player", async () => {
    const a = await node("a");
    const b = await node("b");
    await joined(b, 1);
    const { s, p, sessionId } = await crossNodeSession(a, b);
    const stop = heartbeat(s, p, sessionId, { playerAnswers: () => true });
    await s.next("sessionState", (m) => m.state === "live");
    stop(); // the streamer falls silent
    // First a missed beat shows on the other node, then the lapse ends the session there too.
    expect(await p.next("sessionState", (m) => m.state === "stale")).toMatchObject({ late: "streamer" });
    expect(await p.next("sessionClosed")).toMatchObject({ sessionId, reason: "streamer-heartbeat-timeout" });
    expect(await s.next("sessionClosed")).toMatchObject({ sessionId, reason: "streamer-heartbeat-timeout" });
    expect(a.logs.some((l) => l.msg === "session closed" && l.reason === "streamer-heartbeat-timeout")).toBe(
      true,
    );
  });

  it("the player's node decides its player's lapse; the streamer's node tells its streamer", async () => {
    const a = await node("a");
    const b = await node("b");
    await joined(b, 1);
    const { s, p, sessionId } = await crossNodeSession(a, b);
    let answering = true;
    const stop = heartbeat(s, p, sessionId, { playerAnswers: () => answering });
    await s.next("sessionState", (m) => m.state === "live");
    answering = false;
    expect(await s.next("sessionState", (m) => m.state === "stale")).toMatchObject({ late: "player" });
    expect(await s.next("sessionClosed")).toMatchObject({ sessionId, reason: "player-heartbeat-timeout" });
    expect(await p.next("sessionClosed")).toMatchObject({ sessionId, reason: "player-heartbeat-timeout" });
    stop();
    // The player's node made the decision.
    expect(b.logs.some((l) => l.msg === "session closed" && l.reason === "player-heartbeat-timeout")).toBe(
      true,
    );
  });

  it("pushes the list to players on other nodes when streamers come and go, not when viewers do", async () => {
    const a = await node("a");
    const b = await node("b");
    await joined(b, 1);
    await a.streamer("cam1");
    const watcher = await playerSeeing(b, "cam1");
    await sleep(3 * INTERVAL);
    watcher.received.length = 0;
    // Viewers come: the counts reach b (a list asked for shows them), but nobody is pushed a list.
    const viewers = await Promise.all([a.player(), a.player(), b.player()]);
    for (const v of viewers) v.send({ type: "subscribe", streamerId: "cam1" });
    await Promise.all(viewers.map((v) => v.next("sessionStarted")));
    await eventually(async () => {
      watcher.send({ type: "listStreamers" });
      expect((await watcher.next("streamerList")).streamers).toEqual([{ streamerId: "cam1", players: 3 }]);
    });
    await sleep(3 * INTERVAL);
    expect(watcher.received.filter((m) => m.type === "streamerList")).toEqual([]);
    // A streamer comes: pushed.
    await a.streamer("cam2");
    const pushed = await watcher.next("streamerList");
    expect(pushed.streamers.map((s) => s.streamerId).sort()).toEqual(["cam1", "cam2"]);
  });

  it("a streamer id is unique across the cluster", async () => {
    const a = await node("a");
    const b = await node("b");
    await a.streamer("cam1");
    expect(await refusedHandshake(b.url, { role: "streamer", streamerId: "cam1" })).toBe("streamer-id-taken");
    // Released when the streamer leaves.
    a.hub.registry.closeAll("kicked");
    await eventually(async () => {
      const s = await TestPeer.connect(b.url, { role: "streamer", streamerId: "cam1" });
      s.close();
    });
  });

  it("a hub that shuts down ends its cross-node sessions as hub-shutdown on the other node too", async () => {
    const a = await node("a");
    const b = await node("b");
    await joined(b, 1);
    const { p, sessionId } = await crossNodeSession(a, b);
    await a.close();
    hubs.splice(hubs.indexOf(a), 1);
    expect(await p.next("sessionClosed")).toEqual({
      type: "sessionClosed",
      sessionId,
      reason: "hub-shutdown",
    });
    // It said goodbye: it is forgotten well before the heartbeat timeout.
    await eventually(() => {
      expect(b.hub.cluster?.nodeCount).toBe(0);
    }, TIMEOUT / 2);
  });

  it("a streamer that reconnects through another node with its resume token moves there", async () => {
    const a = await node("a");
    const b = await node("b");
    await joined(b, 1);
    await joined(a, 1);
    const { s, p, sessionId } = await crossNodeSession(a, b);
    // Someone else's token does not move it.
    expect(
      await refusedHandshake(b.url, { role: "streamer", streamerId: "cam1", resumeToken: "x".repeat(32) }),
    ).toBe("streamer-id-taken");
    expect(a.hub.registry.streamer("cam1")).toBeDefined();

    const gone = new Promise<void>((resolve) =>
      s.socket.once("disconnect", () => {
        resolve();
      }),
    );
    const moved = await TestPeer.connect(b.url, {
      role: "streamer",
      streamerId: "cam1",
      resumeToken: s.resumeToken,
    });
    expect(await moved.next("resumed")).toEqual({ type: "resumed", sessionIds: [] });
    await gone; // its old socket on A is closed
    expect(await p.next("sessionClosed")).toEqual({
      type: "sessionClosed",
      sessionId,
      reason: "streamer-left",
    });
    expect(a.hub.registry.streamerCount).toBe(0);
    // The player watches it again, now on its own node.
    p.send({ type: "subscribe", streamerId: "cam1" });
    const started = await p.next("sessionStarted");
    expect((await moved.next("playerJoined")).sessionId).toBe(started.sessionId);
    moved.close();
  });

  it("refuses a player that subscribes past its limit or to a full streamer, across nodes", async () => {
    const a = await node("a");
    const b = await node("b");
    await joined(b, 1);
    a.hub.reconfigure({ ...a.config, maxPlayers: 1 });
    await crossNodeSession(a, b);
    const second = await playerSeeing(b, "cam1");
    second.send({ type: "subscribe", streamerId: "cam1" });
    expect(await second.next("error")).toMatchObject({ code: "streamer-full" });
    second.send({ type: "subscribe", streamerId: "nobody" });
    expect(await second.next("error")).toMatchObject({ code: "streamer-not-found" });
    expect(b.hub.registry.sessionCount).toBe(1);
  });

  it("leaks nothing on either node after many sessions end every way", async () => {
    const a = await node("a");
    const b = await node("b");
    await joined(b, 1);
    const s = await a.streamer("cam1");
    await playerSeeing(b, "cam1");
    const endings = ["unsubscribe", "leave", "drop-streamer-side", "kick"] as const;
    for (let round = 0; round < 3; round++) {
      const players = await Promise.all(Array.from({ length: 20 }, () => b.player()));
      const sessions = await Promise.all(
        players.map(async (p) => {
          p.send({ type: "subscribe", streamerId: "cam1" });
          return { p, sessionId: (await p.next("sessionStarted")).sessionId };
        }),
      );
      expect(a.hub.registry.sessionCount).toBe(20);
      sessions.forEach(({ p, sessionId }, i) => {
        const ending = endings[i % endings.length];
        if (ending === "unsubscribe") p.send({ type: "unsubscribe", sessionId });
        else if (ending === "leave") p.close();
        else if (ending === "drop-streamer-side")
          s.send({ type: "endSession", sessionId, reason: "media-timeout" });
        else {
          const session = [...a.hub.registry.sessions()].find((x) => x.id === sessionId);
          if (session) a.hub.registry.close(session, "kicked");
        }
      });
      await Promise.all(sessions.map(({ p }) => p.next("sessionClosed").catch(() => undefined)));
      await eventually(() => {
        for (const hub of [a, b]) {
          expect(hub.hub.registry.sessionCount).toBe(0);
          expect(hub.hub.registry.watchedCount).toBe(0);
          expect(hub.hub.registry.remotePeerCount).toBe(0);
        }
      });
      for (const p of players) p.close();
    }
    // Every internal map is back to what is left: a's streamer and b's lookout player.
    await eventually(async () => {
      for (const hub of [a, b]) {
        expect(await internalEntries(hub)).toMatchObject({
          "registry.peers": 1,
          "registry.sessions": 0,
          "registry.remote_peers": 0,
          "heartbeat.watched": 0,
          "gateway.addresses": 1,
          "cluster.nodes": 1,
          "cluster.pending_opens": 0,
          "cluster.pending_releases": 0,
        });
      }
      expect(await internalEntries(a)).toMatchObject({ "registry.streamers": 1, "cluster.claimed": 1 });
    });
  });

  it("a player that leaves ends the session on the streamer's node", async () => {
    const a = await node("a");
    const b = await node("b");
    await joined(b, 1);
    const { s, p, sessionId } = await crossNodeSession(a, b);
    p.close();
    expect(await s.next("sessionClosed")).toEqual({
      type: "sessionClosed",
      sessionId,
      reason: "player-left",
    });
    await eventually(() => {
      expect(a.hub.registry.sessionCount).toBe(0);
    });
  });
});

/** A labelled sample from the hub's /metrics (0 when absent). */
/** `heartline_internal_entries` from the hub's /metrics, by map. */
async function internalEntries(hub: TestHub): Promise<Record<string, number>> {
  const text = await (await fetch(`${hub.url}/metrics`)).text();
  const entries: Record<string, number> = {};
  for (const match of text.matchAll(/^heartline_internal_entries\{map="([^"]+)"\} (\d+)$/gm)) {
    entries[match[1] ?? ""] = Number(match[2]);
  }
  return entries;
}

async function labelled(hub: TestHub, name: string, label: string): Promise<number> {
  const text = await (await fetch(`${hub.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name}{${label}}`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
}

/** A raw Redis client, as anyone who can reach the cluster's Redis has one. */
function attacker(url = redis.url): Redis {
  const client = new Redis(url, { lazyConnect: false });
  clients.push(client);
  return client;
}
const clients: Redis[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.disconnect();
});

/** Collects every message published on Redis (psubscribe *) until stopped. */
async function eavesdrop(url = redis.url): Promise<{ messages: string[]; stop(): void }> {
  const client = attacker(url);
  const messages: string[] = [];
  client.on("pmessageBuffer", (_pattern: Buffer, _channel: Buffer, message: Buffer) => {
    messages.push(message.toString("latin1"));
  });
  await client.psubscribe("*");
  return {
    messages,
    stop: () => {
      client.disconnect();
    },
  };
}

/** msgpack, just enough for a socket.io-redis-adapter broadcast packet. */
function msgpack(value: unknown): Buffer {
  if (typeof value === "string") {
    const bytes = Buffer.from(value, "utf8");
    return Buffer.concat([Buffer.from([0xd9, bytes.length]), bytes]);
  }
  if (typeof value === "number") return Buffer.from([value & 0x7f]);
  if (Array.isArray(value)) return Buffer.concat([Buffer.from([0x90 | value.length]), ...value.map(msgpack)]);
  const entries = Object.entries(value as Record<string, unknown>);
  return Buffer.concat([
    Buffer.from([0x80 | entries.length]),
    ...entries.flatMap(([k, v]) => [msgpack(k), msgpack(v)]),
  ]);
}

/** What a player saw besides what every player sees on connecting. */
const unexpected = (p: TestPeer): unknown[] =>
  p.seen.filter((m) => m.type !== "config" && m.type !== "streamerList" && m.type !== "sessionStarted");

describe("what other nodes send", () => {
  it("is dropped when invalid or not the sender's to send, and touches nothing else", async () => {
    const a = await node("a");
    const b = await node("b");
    await joined(b, 1);
    const { s, p, sessionId } = await crossNodeSession(a, b);
    // Signed by node a, as a buggy node (or one of another version) would send them.
    const emit = (envelope: unknown): void => {
      a.hub.cluster?.bus.publish(envelope as never);
    };
    emit({ kind: "relay", from: "a", to: "b" });
    emit({
      kind: "relay",
      from: "a",
      to: "b",
      sessionId,
      message: { type: "ping", sessionId, time: "soon" },
    });
    // A streamer never sends an answer; node a holds the streamer of this session.
    emit({
      kind: "relay",
      from: "a",
      to: "b",
      sessionId,
      message: { type: "answer", sessionId, sdp: "v=0" },
    });
    emit({
      kind: "relay",
      from: "a",
      to: "b",
      sessionId,
      message: { type: "ping", sessionId: "other", time: 1 },
    });
    // The frame says a, the envelope c: refused before anything reads it.
    emit({ kind: "close", from: "c", to: "b", sessionId, reason: "kicked" });

    s.send({ type: "ping", sessionId, time: 7 });
    expect(await p.next("ping")).toMatchObject({ time: 7 });
    expect(unexpected(p)).toEqual([{ type: "ping", sessionId, time: 7 }]);
    expect(b.hub.cluster?.invalidEnvelopes).toBe(2);
    expect(b.logs.filter((l) => l.msg === "invalid relay dropped")).toHaveLength(2);
    expect(b.hub.registry.sessionCount).toBe(1);
  });
});

describe("a node that answers an open and relays at once", () => {
  it("has its relays and its close reach the player after sessionStarted, in the order sent", async () => {
    // The test plays node a on a raw client, so that `opened`, the streamer's offer and a close
    // leave in one pipeline and reach node b in one read (two real nodes do that only when the
    // streamer answers fast: the cause of a player that never saw its offer, and of one that
    // was never told its session ended).
    const b = await node("b");
    const fake = attacker();
    const listener = attacker();
    const header = { from: "a", inc: Date.now(), seq: 0 };
    const frame = (env: Record<string, unknown>): string =>
      encodeFrame(CLUSTER_SECRET, { ...header, seq: ++header.seq, ts: Date.now() }, { from: "a", ...env });
    await fake.hset(`${keyPrefix}:node:a:streamers`, "cam1", "0");
    const beats = setInterval(() => {
      void fake.publish(`${keyPrefix}:bus`, frame({ kind: "beat", streamers: 1, timeoutMs: TIMEOUT }));
    }, INTERVAL / 2);
    try {
      const opens: { sessionId: string }[] = [];
      listener.on("message", (_channel: string, message: string) => {
        const { env } = JSON.parse(message.slice(message.indexOf(".") + 1)) as {
          env: { kind: string; sessionId: string };
        };
        if (env.kind === "open") opens.push(env);
      });
      await listener.subscribe(`${keyPrefix}:bus:a`);
      await fake.set(`${keyPrefix}:streamer:cam1`, "a");
      const p = await playerSeeing(b, "cam1");
      p.send({ type: "subscribe", streamerId: "cam1" });
      await eventually(() => {
        expect(opens).toHaveLength(1);
      });
      const sessionId = opens[0]?.sessionId ?? "";
      const to = { to: "b", sessionId };
      await fake
        .pipeline()
        .publish(`${keyPrefix}:bus:b`, frame({ kind: "opened", ...to }))
        .publish(
          `${keyPrefix}:bus:b`,
          frame({ kind: "relay", ...to, message: { type: "offer", sessionId, sdp: "v=0\r\n" } }),
        )
        .publish(`${keyPrefix}:bus:b`, frame({ kind: "close", ...to, reason: "kicked" }))
        .exec();
      expect(await p.next("sessionClosed")).toMatchObject({ sessionId, reason: "kicked" });
      const order = p.seen.filter((m) => "sessionId" in m && m.sessionId === sessionId).map((m) => m.type);
      expect(order).toEqual(["sessionStarted", "offer", "sessionClosed"]);
      expect(b.hub.registry.sessionCount).toBe(0);
    } finally {
      clearInterval(beats);
    }
  });
});

describe("a node that ended what it shared, then takes an open", () => {
  it("keeps an open it had not seen when it said so: the player gets its session", async () => {
    // After a Redis outage both nodes hear each other again and each says `lost` (end what you
    // shared with me). The player on b subscribes again at once; a's `lost` was sent before a saw
    // that open and reaches b after b sent it. From one sender, envelopes arrive in order: an open
    // still pending at `lost` is newer than what `lost` ends. It once ended it, and nobody was told.
    const b = await node("b");
    const fake = attacker();
    const listener = attacker();
    const header = { from: "a", inc: Date.now(), seq: 0 };
    const frame = (env: Record<string, unknown>): string =>
      encodeFrame(CLUSTER_SECRET, { ...header, seq: ++header.seq, ts: Date.now() }, { from: "a", ...env });
    await fake.hset(`${keyPrefix}:node:a:streamers`, "cam1", "0");
    const beats = setInterval(() => {
      void fake.publish(`${keyPrefix}:bus`, frame({ kind: "beat", streamers: 1, timeoutMs: TIMEOUT }));
    }, INTERVAL / 2);
    try {
      const opens: { sessionId: string }[] = [];
      listener.on("message", (_channel: string, message: string) => {
        const { env } = JSON.parse(message.slice(message.indexOf(".") + 1)) as {
          env: { kind: string; sessionId: string };
        };
        if (env.kind === "open") opens.push(env);
      });
      await listener.subscribe(`${keyPrefix}:bus:a`);
      await fake.set(`${keyPrefix}:streamer:cam1`, "a");
      const p = await playerSeeing(b, "cam1");
      p.send({ type: "subscribe", streamerId: "cam1" });
      await eventually(() => {
        expect(opens).toHaveLength(1);
      });
      const sessionId = opens[0]?.sessionId ?? "";
      const to = { to: "b", sessionId };
      await fake
        .pipeline()
        .publish(`${keyPrefix}:bus:b`, frame({ kind: "lost", to: "b" }))
        .publish(`${keyPrefix}:bus:b`, frame({ kind: "opened", ...to }))
        .publish(
          `${keyPrefix}:bus:b`,
          frame({ kind: "relay", ...to, message: { type: "offer", sessionId, sdp: "v=0\r\n" } }),
        )
        .exec();
      expect(await p.next("offer")).toMatchObject({ sessionId });
      const order = p.seen.filter((m) => "sessionId" in m && m.sessionId === sessionId).map((m) => m.type);
      expect(order).toEqual(["sessionStarted", "offer"]);
      expect(b.hub.registry.sessionCount).toBe(1);
    } finally {
      clearInterval(beats);
    }
  });
});

describe("anyone who can publish to the cluster's Redis", () => {
  it("cannot kill a node with garbage: on the bus it is counted, logged and dropped", async () => {
    const a = await node("a");
    const b = await node("b");
    await joined(b, 1);
    const { s, p, sessionId } = await crossNodeSession(a, b);
    const redisClient = attacker();
    const garbage = Buffer.from([0xc1, 0x78]);
    // The socket.io Redis adapter's channels (no adapter listens any more) and the bus's own.
    for (const channel of [
      `${keyPrefix}#/#`,
      `${keyPrefix}#/admin#`,
      `${keyPrefix}-request#/#`,
      `${keyPrefix}:bus`,
      `${keyPrefix}:bus:b`,
    ]) {
      await redisClient.publish(channel, garbage);
    }
    await redisClient.publish(`${keyPrefix}:bus`, "x".repeat(64) + ".{}");
    s.send({ type: "ping", sessionId, time: 1 });
    expect(await p.next("ping")).toMatchObject({ time: 1 });
    await eventually(async () => {
      expect(await labelled(b, "heartline_cluster_rejected_total", 'reason="malformed"')).toBe(2);
      expect(await labelled(b, "heartline_cluster_rejected_total", 'reason="signature"')).toBe(1);
      expect(await labelled(a, "heartline_cluster_rejected_total", 'reason="malformed"')).toBe(1);
    });
    expect(
      b.logs.some((l) => l.msg === "dropped a message from redis that did not pass the cluster's checks"),
    ).toBe(true);
    expect(b.hub.registry.sessionCount).toBe(1);
  });

  it("gets no socket's handshake from a fetch-sockets request, and no node keeps a secret on one", async () => {
    const streamerKey = "streamer-key-SECRET-0123456789";
    const playerTokenSecret = "player-token-secret-SECRET-0123456789";
    const auth = { open: false, streamerKeys: [{ key: streamerKey }], playerTokenSecret };
    const a = await node("a", { auth });
    const b = await node("b", { auth });
    await joined(b, 1);
    const issued = await fetch(`${b.url}/api/player-token`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      body: "{}",
    });
    const { token } = (await issued.json()) as { token: string };
    const s = await TestPeer.connect(a.url, { role: "streamer", streamerId: "cam1", key: streamerKey });
    const p = await TestPeer.connect(b.url, { role: "player", token });
    const resumed = await TestPeer.connect(b.url, { role: "player", token, resumeToken: p.resumeToken });
    const dashboard = connectSocket(`${b.url}/admin`, {
      transports: ["websocket"],
      auth: { token: ADMIN_TOKEN },
      extraHeaders: { authorization: `Bearer ${ADMIN_TOKEN}`, cookie: `session=${ADMIN_TOKEN}` },
      reconnection: false,
      forceNew: true,
    });
    await new Promise<void>((resolve) =>
      dashboard.once("connect", () => {
        resolve();
      }),
    );
    const secrets = [streamerKey, token, ADMIN_TOKEN, s.resumeToken, p.resumeToken];
    const listen = await eavesdrop();
    const redisClient = attacker();
    // socket.io-redis-adapter's REMOTE_FETCH (type 5), as JSON, to both namespaces.
    for (const nsp of ["/", "/admin"]) {
      await redisClient.publish(
        `${keyPrefix}-request#${nsp}#`,
        JSON.stringify({ uid: "evil", requestId: `r${nsp}`, type: 5, opts: { rooms: [], except: [] } }),
      );
    }
    await sleep(500);
    listen.stop();
    const answers = listen.messages.filter((m) => !m.includes('"kind":"beat"'));
    for (const secret of secrets) expect(answers.filter((m) => m.includes(secret))).toEqual([]);
    // Nor does any socket keep one once it was checked, in either namespace.
    for (const hub of [a, b]) {
      for (const nsp of [hub.hub.io.of("/"), hub.hub.io.of("/admin")]) {
        for (const socket of nsp.sockets.values()) {
          const kept = JSON.stringify({
            handshake: socket.handshake,
            data: socket.data as unknown,
          });
          for (const secret of secrets) expect(kept).not.toContain(secret);
        }
      }
    }
    // Everything still works: the dashboard was admitted, the resumed player is the same peer.
    expect(b.hub.io.of("/admin").sockets.size).toBe(1);
    expect(await resumed.next("resumed")).toBeDefined();
    dashboard.disconnect();
  });

  it("cannot speak for a node: unsigned, wrongly signed, replayed and adapter-style messages reach nobody", async () => {
    const a = await node("a");
    const b = await node("b");
    await joined(b, 1);
    const { s, p, sessionId } = await crossNodeSession(a, b);
    const listen = await eavesdrop();
    s.send({ type: "ping", sessionId, time: 1 });
    await p.next("ping");
    await sleep(50);
    listen.stop();
    const redisClient = attacker();
    const offer = { type: "offer", sessionId, sdp: "v=0 forged" };
    const relay = { kind: "relay", from: "a", to: "b", sessionId, message: offer };
    // A relay with a forged `from`, unsigned and signed with another secret.
    await redisClient.publish(`${keyPrefix}:bus:b`, JSON.stringify(relay));
    const header = { from: "a", inc: Date.now(), seq: 1, ts: Date.now() };
    await redisClient.publish(
      `${keyPrefix}:bus:b`,
      encodeFrame("not-the-cluster-secret-0123456789abcdef", header, relay),
    );
    // A spoofed goodbye and close, wrongly signed.
    await redisClient.publish(
      `${keyPrefix}:bus`,
      encodeFrame("guess-0123456789abcdef0123456789abcdef", header, { kind: "bye", from: "a" }),
    );
    // Every frame node a really sent, replayed.
    const captured = listen.messages.filter((m) => m.includes('"from":"a"'));
    expect(captured.length).toBeGreaterThan(0);
    for (const frame of captured) {
      await redisClient.publish(
        frame.includes('"to":"b"') ? `${keyPrefix}:bus:b` : `${keyPrefix}:bus`,
        frame,
      );
    }
    // What the socket.io adapter would have taken: a server-side "connection" emit, a msgpack
    // broadcast of an offer to every socket.
    await redisClient.publish(
      `${keyPrefix}-request#/#`,
      JSON.stringify({ uid: "evil", type: 6, data: ["connection", { id: "x" }] }),
    );
    await redisClient.publish(
      `${keyPrefix}#/#`,
      msgpack([
        "evil",
        { type: 2, data: ["message", offer], nsp: "/" },
        { rooms: [], except: [], flags: {} },
      ]),
    );
    s.send({ type: "ping", sessionId, time: 2 });
    expect(await p.next("ping", (m) => m.time === 2)).toMatchObject({ time: 2 });
    await eventually(async () => {
      expect(await labelled(b, "heartline_cluster_rejected_total", 'reason="malformed"')).toBe(1);
      expect(await labelled(b, "heartline_cluster_rejected_total", 'reason="signature"')).toBe(2);
      expect(await labelled(b, "heartline_cluster_rejected_total", 'reason="replay"')).toBe(captured.length);
    });
    expect(unexpected(p).filter((m) => (m as { type: string }).type !== "ping")).toEqual([]);
    expect(b.hub.registry.sessionCount).toBe(1);
    expect(b.hub.cluster?.nodeCount).toBe(1);
    expect([...b.hub.registry.peers()]).toHaveLength(1);
  });
});

describe("a node that stops hearing another one that is still running", () => {
  it("ends the shared sessions on both nodes: no half-session is left behind", async () => {
    const a = await node("a");
    const b = await node("b");
    await joined(b, 1);
    const { s, p, sessionId } = await crossNodeSession(a, b);
    // b hears a goodbye from a while a runs on (as a one-sided partition makes b lose a).
    a.hub.cluster?.bus.publish({ kind: "bye", from: "a" });
    expect(await p.next("sessionClosed")).toEqual({
      type: "sessionClosed",
      sessionId,
      reason: "hub-link-lost",
    });
    // b told a, which ends its half too, and its streamer hears it.
    expect(await s.next("sessionClosed")).toEqual({
      type: "sessionClosed",
      sessionId,
      reason: "hub-link-lost",
    });
    await eventually(() => {
      expect(a.hub.registry.sessionCount).toBe(0);
      expect(a.hub.registry.remotePeerCount).toBe(0);
      expect(b.hub.registry.sessionCount).toBe(0);
    });
    // a beats on: b hears it again, and the player can watch again.
    await joined(b, 1);
    const again = await playerSeeing(b, "cam1");
    again.send({ type: "subscribe", streamerId: "cam1" });
    expect(await again.next("sessionStarted")).toBeDefined();
  });
});

/** The ACL docs/cluster.md suggests, for the prefix `tacl*` (redis-server --user ...). */
const ACL_USER =
  "heartline on >hub-password-0123456789 resetkeys ~tacl*:* resetchannels &tacl*:* -@all +@connection +@pubsub +@read +@write +@transaction +@scripting -@dangerous +info";

describe("a Redis that requires a password (AUTH and ACL users)", () => {
  let locked: RedisServer | undefined;
  afterEach(async () => {
    await Promise.all(hubs.splice(0).map((hub) => hub.close()));
    await locked?.stop();
    locked = undefined;
  });

  it("is reached with the user and password in the URL, and refuses a wrong password without crashing", async () => {
    // A user allowed only what docs/cluster.md lists: this cluster's keys and channels.
    locked = await RedisServer.start([
      "--requirepass",
      "default-password-0123456789",
      "--user",
      ...ACL_USER.split(" "),
    ]);
    keyPrefix = `tacl${String(++prefix)}`;
    const url = `redis://heartline:hub-password-0123456789@127.0.0.1:${String(locked.port)}`;
    const a = await startHubOn("a", url);
    const b = await startHubOn("b", url);
    await joined(b, 1);
    const { s, p, sessionId } = await crossNodeSession(a, b);
    s.send({ type: "offer", sessionId, sdp: "v=0 offer" });
    expect(await p.next("offer")).toMatchObject({ sdp: "v=0 offer" });
    const view = await fetch(`${b.url}/api/cluster`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(view.status).toBe(200);
    // The password never shows: not in the config the API shows, not in a log line.
    const config = await (
      await fetch(`${b.url}/api/config`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    ).text();
    expect(config).not.toContain("hub-password-0123456789");
    expect(config).not.toContain(CLUSTER_SECRET);
    expect(JSON.stringify(b.logs)).not.toContain("hub-password-0123456789");

    const wrong = await startHubOn("c", `redis://heartline:wrong-password@127.0.0.1:${String(locked.port)}`);
    await sleep(500);
    expect(wrong.hub.cluster?.linkUp).toBe(false);
    expect(await (await fetch(`${wrong.url}/readyz`)).json()).toMatchObject({ status: "degraded" });
  });
});

/** A cluster node on another Redis (its URL given), with this test's key prefix. */
async function startHubOn(nodeId: string, redisUrl: string): Promise<TestHub> {
  const hub = await startHub({
    heartbeat: { intervalMs: INTERVAL, missedBeats: MISSED },
    cluster: { redisUrl, keyPrefix, nodeId, requestTimeoutMs: 1000, secret: CLUSTER_SECRET },
    admin: { token: ADMIN_TOKEN },
  });
  hubs.push(hub);
  return hub;
}

describe("nodes whose heartbeat settings differ (a config reload reaching one first)", () => {
  it("do not declare each other lost between the slower node's beats", async () => {
    // a beats every 750 ms, longer than b's own 600 ms timeout.
    const a = await node("a", { intervalMs: 1500 });
    const b = await node("b");
    await joined(b, 1);
    await sleep(2500);
    expect(b.logs.filter((l) => l.msg === "hub node lost")).toEqual([]);
    expect(b.hub.cluster?.nodeCount).toBe(1);
    expect(a.hub.cluster?.nodeCount).toBe(1);
  });
});

describe("a node that dies", () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    child?.kill("SIGKILL");
    child = undefined;
  });

  it("has its sessions closed on the other nodes with hub-link-lost within the heartbeat timeout", async () => {
    const b = await node("b");
    // Node A is a real hub process, so it can be killed without a goodbye.
    const root = fileURLToPath(new URL("../../..", import.meta.url));
    const proc = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "server/src/main.ts",
        "--port",
        "0",
        "--auth-open",
        "true",
        "--heartbeat-interval-ms",
        String(INTERVAL),
        "--heartbeat-missed-beats",
        String(MISSED),
        "--cluster-redis-url",
        redis.url,
        "--cluster-key-prefix",
        keyPrefix,
        "--cluster-node-id",
        "a",
        "--cluster-secret",
        CLUSTER_SECRET,
      ],
      { cwd: root, stdio: ["ignore", "pipe", "inherit"] },
    );
    child = proc;
    const url = await new Promise<string>((resolve, reject) => {
      let buffered = "";
      proc.stdout.on("data", (chunk: Buffer) => {
        buffered += chunk.toString();
        const match = /"url":"([^"]+)"/.exec(buffered);
        if (match?.[1]) resolve(match[1]);
      });
      proc.once("exit", () => {
        reject(new Error(`hub exited before listening:\n${buffered}`));
      });
    });
    await joined(b, 1);
    const s = await TestPeer.connect(url, { role: "streamer", streamerId: "cam1" });
    const p = await playerSeeing(b, "cam1");
    p.send({ type: "subscribe", streamerId: "cam1" });
    const { sessionId } = await p.next("sessionStarted");
    await s.next("playerJoined");
    const stop = heartbeat(s, p, sessionId, { playerAnswers: () => true });
    await p.next("sessionState", (m) => m.state === "live");

    proc.kill("SIGKILL");
    const killedAt = Date.now();
    const closed = await p.next("sessionClosed", () => true, 10 * TIMEOUT);
    const tookMs = Date.now() - killedAt;
    stop();
    expect(closed).toEqual({ type: "sessionClosed", sessionId, reason: "hub-link-lost" });
    // The last beat came at most half an interval before the kill; allow the test's own latency.
    expect(tookMs).toBeLessThan(TIMEOUT + INTERVAL * 2);
    // Its streamers leave the list.
    p.received.length = 0;
    p.send({ type: "listStreamers" });
    expect((await p.next("streamerList")).streamers).toEqual([]);
    expect(b.hub.registry.sessionCount).toBe(0);
  });
});

describe("a Redis outage", () => {
  it("keeps same-node sessions working, ends cross-node ones, says degraded, and recovers by itself", async () => {
    const a = await node("a");
    const b = await node("b");
    await joined(b, 1);
    const local = await a.session("cam1");
    const cross = await crossNodeSession(a, b, "cam2");
    const stopLocal = heartbeat(local.s, local.p, local.sessionId, { playerAnswers: () => true });
    const stopCross = heartbeat(cross.s, cross.p, cross.sessionId, { playerAnswers: () => true });
    await local.p.next("sessionState", (m) => m.state === "live");
    await cross.p.next("sessionState", (m) => m.state === "live");
    expect((await fetch(`${a.url}/readyz`)).status).toBe(200);

    await redis.kill();
    // Cross-node: relays are refused to their sender at once, and the session ends on both nodes
    // when the other node has been silent for the heartbeat timeout.
    expect(await cross.s.next("error", (m) => m.code === "cluster-unavailable")).toMatchObject({
      sessionId: cross.sessionId,
    });
    expect(await cross.s.next("sessionClosed")).toMatchObject({ reason: "hub-link-lost" });
    expect(await cross.p.next("sessionClosed")).toMatchObject({ reason: "hub-link-lost" });
    // Same-node: pings and pongs keep flowing; the session stays live.
    local.p.received.length = 0;
    await local.p.next("ping");
    await local.s.next("pong");
    expect([...a.hub.registry.sessions()].map((session) => session.state)).toEqual(["live"]);
    // Readiness says degraded, with why.
    const ready = await fetch(`${a.url}/readyz`);
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { status: string; failing: Record<string, string> };
    expect(body.status).toBe("degraded");
    expect(body.failing.redis).toMatch(/Redis unreachable/);
    expect(await metric(a, "heartline_cluster_redis_up")).toBe(0);
    expect(await metric(a, "heartline_cluster_dropped_publishes_total")).toBeGreaterThanOrEqual(0);
    // A subscribe to a streamer elsewhere fails fast with a code the player can act on.
    const p2 = await b.player();
    p2.send({ type: "subscribe", streamerId: "cam1" });
    expect(await p2.next("error")).toMatchObject({ code: "cluster-unavailable" });
    const api = await fetch(`${b.url}/api/cluster`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(api.status).toBe(503);
    expect(await api.json()).toMatchObject({ error: "cluster-unavailable" });
    await sleep(2 * TIMEOUT); // the outage lasts: nothing crashes (an unhandled rejection fails this run)

    await redis.restart();
    await eventually(async () => {
      expect((await fetch(`${a.url}/readyz`)).status).toBe(200);
      expect((await fetch(`${b.url}/readyz`)).status).toBe(200);
    }, 10_000);
    await joined(b, 1);
    expect(await metric(b, "heartline_cluster_redis_up")).toBe(1);
    expect(await metric(b, "heartline_cluster_other_nodes")).toBe(1);
    // Streamers on the other node are listed again and can be watched across nodes.
    const p3 = await playerSeeing(b, "cam1");
    p3.send({ type: "subscribe", streamerId: "cam1" });
    const started = await p3.next("sessionStarted");
    expect(await local.s.next("playerJoined", (m) => m.sessionId === started.sessionId)).toBeDefined();
    stopLocal();
    stopCross();
    expect(local.p.seen.some((m) => m.type === "sessionClosed")).toBe(false);
  });

  it("a hub starts while Redis is down, serves same-node sessions, and joins when Redis comes", async () => {
    await redis.kill();
    const a = await node("a", { requestTimeoutMs: 300 });
    const ready = await fetch(`${a.url}/readyz`);
    expect(await ready.json()).toMatchObject({ status: "degraded" });
    const { p, s, sessionId } = await a.session("cam1");
    s.send({ type: "ping", sessionId, time: 1 });
    expect(await p.next("ping")).toMatchObject({ time: 1 });
    await redis.restart();
    const b = await node("b");
    await joined(b, 1);
    // A subscribed while Redis was down: it hears the cluster now, both ways.
    await joined(a, 1);
    await playerSeeing(b, "cam1");
    await crossNodeSession(b, a, "cam2");
  });
});

describe("single-node mode (no cluster.redisUrl)", () => {
  it("uses no Redis, and says so on /api/cluster", async () => {
    const alone = await startHub({ admin: { token: ADMIN_TOKEN } });
    hubs.push(alone);
    expect(alone.hub.cluster).toBeUndefined();
    const api = await fetch(`${alone.url}/api/cluster`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(api.status).toBe(404);
    expect(await api.json()).toMatchObject({ error: "not-clustered" });
    expect(await (await fetch(`${alone.url}/readyz`)).json()).toEqual({ status: "ready" });
  });
});

describe("the Redis registry", () => {
  it("lists every node's streamers and sessions, and a node's keys go when it leaves", async () => {
    const a = await node("a");
    const b = await node("b");
    await joined(b, 1);
    const { sessionId } = await crossNodeSession(a, b);
    const client = new Redis(redis.url);
    try {
      await eventually(async () => {
        expect(await client.get(`${keyPrefix}:streamer:cam1`)).toBe("a");
        expect(await client.hgetall(`${keyPrefix}:node:a:streamers`)).toEqual({ cam1: "1" });
        const record = await client.hget(`${keyPrefix}:node:b:sessions`, sessionId);
        expect(JSON.parse(record ?? "null")).toMatchObject({
          streamerId: "cam1",
          streamerNode: "a",
          playerNode: "b",
        });
      });
      const api = await fetch(`${a.url}/api/cluster`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      expect(await api.json()).toEqual({
        nodeId: "a",
        redis: "up",
        nodes: [
          { nodeId: "a", self: true, streamers: ["cam1"], sessions: 0 },
          { nodeId: "b", self: false, streamers: [], sessions: 1 },
        ],
      });
      await a.close();
      hubs.splice(hubs.indexOf(a), 1);
      expect(await client.exists(`${keyPrefix}:node:a`, `${keyPrefix}:streamer:cam1`)).toBe(0);
      expect(await client.smembers(`${keyPrefix}:nodes`)).toEqual(["b"]);
    } finally {
      client.disconnect();
    }
  });
});
