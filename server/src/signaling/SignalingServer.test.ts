/**
 * Integration: a real hub and real socket.io clients as streamer and player, with a short
 * heartbeat so timeouts take a fraction of a second.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HandshakeError } from "@heartline/shared";
import { refusedHandshake, sleep, startHub, TestPeer, type TestHub } from "../testing/harness.js";

const INTERVAL = 100;
const MISSED = 3;
const TIMEOUT = INTERVAL * MISSED;

let hub: TestHub;
const streamer = (streamerId = "cam1"): Promise<TestPeer> => hub.streamer(streamerId);
const player = (): Promise<TestPeer> => hub.player();
const session = (streamerId = "cam1") => hub.session(streamerId);

beforeEach(async () => {
  hub = await startHub({ heartbeat: { intervalMs: INTERVAL, missedBeats: MISSED } });
});
afterEach(async () => {
  await hub.close();
});

describe("handshake", () => {
  it("sends config with the heartbeat settings and no ICE servers by default", async () => {
    const p = new TestPeer(hub.url, { role: "player" });
    const config = await p.next("config");
    p.close();
    expect(config).toMatchObject({
      protocolVersion: 1,
      heartbeat: {
        intervalMs: INTERVAL,
        timeoutMs: TIMEOUT,
        staleAfterMs: INTERVAL * 1.5,
        resumeGraceMs: TIMEOUT,
      },
      iceServers: [],
    });
    expect(config.resumeToken.length).toBeGreaterThanOrEqual(32);
    expect(config.peerId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("refuses a missing or unknown role with invalid-handshake", async () => {
    expect(await refusedHandshake(hub.url, undefined)).toBe(HandshakeError.InvalidHandshake);
    expect(await refusedHandshake(hub.url, { role: "admin" })).toBe(HandshakeError.InvalidHandshake);
  });

  it("refuses a streamer without a valid id with invalid-streamer-id", async () => {
    expect(await refusedHandshake(hub.url, { role: "streamer" })).toBe(HandshakeError.InvalidStreamerId);
    expect(await refusedHandshake(hub.url, { role: "streamer", streamerId: "../etc" })).toBe(
      HandshakeError.InvalidStreamerId,
    );
  });

  it("refuses a second streamer under an id that is live, and accepts it once the first left", async () => {
    const first = await streamer("cam1");
    expect(await refusedHandshake(hub.url, { role: "streamer", streamerId: "cam1" })).toBe(
      HandshakeError.StreamerIdTaken,
    );
    first.close();
    await sleep(100);
    await streamer("cam1");
    expect(hub.hub.registry.listStreamers()).toEqual([{ streamerId: "cam1", players: 0 }]);
  });
});

describe("message flow", () => {
  it("lists streamers, opens a session and relays SDP, ICE, ping and pong unchanged", async () => {
    const s = await streamer("cam1");
    const p = await player();
    p.send({ type: "listStreamers" });
    expect(await p.next("streamerList")).toEqual({
      type: "streamerList",
      streamers: [{ streamerId: "cam1", players: 0 }],
    });

    p.send({ type: "subscribe", streamerId: "cam1" });
    const started = await p.next("sessionStarted");
    expect(started.streamerId).toBe("cam1");
    const { sessionId } = started;
    expect(await s.next("playerJoined")).toEqual({ type: "playerJoined", sessionId });

    s.send({ type: "offer", sessionId, sdp: "v=0 offer" });
    expect(await p.next("offer")).toEqual({ type: "offer", sessionId, sdp: "v=0 offer" });
    p.send({ type: "answer", sessionId, sdp: "v=0 answer" });
    expect(await s.next("answer")).toEqual({ type: "answer", sessionId, sdp: "v=0 answer" });

    const candidate = {
      candidate: "candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host",
      sdpMid: "0",
      sdpMLineIndex: 0,
    };
    s.send({ type: "iceCandidate", sessionId, candidate });
    expect(await p.next("iceCandidate")).toEqual({ type: "iceCandidate", sessionId, candidate });
    p.send({ type: "iceCandidate", sessionId, candidate: { ...candidate, sdpMid: null } });
    expect((await s.next("iceCandidate")).candidate.sdpMid).toBeNull();

    const time = 123456.789;
    s.send({ type: "ping", sessionId, time });
    const ping = await p.next("ping");
    expect(ping).toEqual({ type: "ping", sessionId, time });
    p.send({ type: "pong", sessionId, time: ping.time });
    expect(await s.next("pong")).toEqual({ type: "pong", sessionId, time });

    p.send({ type: "listStreamers" });
    expect((await p.next("streamerList")).streamers).toEqual([{ streamerId: "cam1", players: 1 }]);

    p.send({ type: "unsubscribe", sessionId });
    expect(await p.next("sessionClosed")).toEqual({
      type: "sessionClosed",
      sessionId,
      reason: "unsubscribed",
    });
    expect(await s.next("sessionClosed")).toEqual({
      type: "sessionClosed",
      sessionId,
      reason: "unsubscribed",
    });
    expect(hub.hub.registry.sessionCount).toBe(0);
  });

  it("pushes the streamer list to players when a streamer registers or leaves", async () => {
    const p = await player();
    const s = await streamer("cam2");
    expect((await p.next("streamerList")).streamers).toEqual([{ streamerId: "cam2", players: 0 }]);
    s.close();
    expect((await p.next("streamerList")).streamers).toEqual([]);
  });

  it("refuses subscribing to a streamer that is not connected", async () => {
    const p = await player();
    p.send({ type: "subscribe", streamerId: "nobody" });
    expect(await p.next("error")).toMatchObject({ code: "streamer-not-found" });
  });
});

describe("heartbeat", () => {
  /** Answers every ping until told to stop. */
  function answerPings(p: TestPeer): { stop: () => void; lastPongAt: () => number } {
    let answering = true;
    let last = performance.now();
    p.socket.on("message", (m: { type: string; sessionId: string; time: number }) => {
      if (answering && m.type === "ping") {
        p.send({ type: "pong", sessionId: m.sessionId, time: m.time });
        last = performance.now();
      }
    });
    return { stop: () => (answering = false), lastPongAt: () => last };
  }

  it("keeps a session whose ends beat on time open for many timeouts", async () => {
    const { s, p, sessionId } = await session();
    answerPings(p);
    const pinger = setInterval(() => {
      s.send({ type: "ping", sessionId, time: performance.now() });
    }, INTERVAL);
    await sleep(TIMEOUT * 4);
    clearInterval(pinger);
    expect(s.received.filter((m) => m.type === "sessionClosed")).toEqual([]);
    expect(p.received.filter((m) => m.type === "sessionClosed")).toEqual([]);
    expect(hub.hub.registry.sessionCount).toBe(1);
  });

  it("closes a session whose player stops answering with player-heartbeat-timeout, on both ends", async () => {
    const { s, p, sessionId } = await session();
    const answerer = answerPings(p);
    const pinger = setInterval(() => {
      s.send({ type: "ping", sessionId, time: performance.now() });
    }, INTERVAL);
    await sleep(TIMEOUT);
    answerer.stop();
    const stoppedAt = answerer.lastPongAt();
    const closed = await s.next("sessionClosed", undefined, TIMEOUT * 4);
    const elapsed = performance.now() - stoppedAt;
    clearInterval(pinger);
    expect(closed).toEqual({ type: "sessionClosed", sessionId, reason: "player-heartbeat-timeout" });
    expect(await p.next("sessionClosed")).toEqual(closed);
    expect(elapsed).toBeGreaterThan(TIMEOUT);
    expect(elapsed).toBeLessThan(TIMEOUT + 250);
    expect(hub.logs).toContainEqual(
      expect.objectContaining({ msg: "session closed", sessionId, reason: "player-heartbeat-timeout" }),
    );
  });

  it("closes a session whose streamer stops pinging with streamer-heartbeat-timeout, never blaming the player", async () => {
    const { s, p, sessionId } = await session();
    answerPings(p);
    let lastPingAt = performance.now();
    const pinger = setInterval(() => {
      s.send({ type: "ping", sessionId, time: performance.now() });
      lastPingAt = performance.now();
    }, INTERVAL);
    await sleep(TIMEOUT);
    clearInterval(pinger); // the streamer hangs; its socket stays open
    const closed = await p.next("sessionClosed", undefined, TIMEOUT * 4);
    const elapsed = performance.now() - lastPingAt;
    expect(closed).toEqual({ type: "sessionClosed", sessionId, reason: "streamer-heartbeat-timeout" });
    expect(await s.next("sessionClosed")).toEqual(closed);
    expect(elapsed).toBeGreaterThan(TIMEOUT);
    expect(elapsed).toBeLessThan(TIMEOUT + 250);
  });

  it("lapses one session without touching another on the same streamer", async () => {
    const a = await session("cam1");
    const b = await session("cam1");
    answerPings(b.p); // a's player never answers
    const pinger = setInterval(() => {
      a.s.send({ type: "ping", sessionId: a.sessionId, time: 1 });
      a.s.send({ type: "ping", sessionId: b.sessionId, time: 2 });
    }, INTERVAL);
    const closed = await a.p.next("sessionClosed", undefined, TIMEOUT * 4);
    await sleep(TIMEOUT);
    clearInterval(pinger);
    expect(closed).toMatchObject({ sessionId: a.sessionId, reason: "player-heartbeat-timeout" });
    expect(b.p.received.filter((m) => m.type === "sessionClosed")).toEqual([]);
    expect(hub.hub.registry.sessionCount).toBe(1);
  });
});

describe("disconnects", () => {
  it("closes the streamer's sessions with streamer-left when its socket goes", async () => {
    const { s, p, sessionId } = await session();
    s.close();
    expect(await p.next("sessionClosed")).toEqual({
      type: "sessionClosed",
      sessionId,
      reason: "streamer-left",
    });
    expect(hub.hub.registry.streamerCount).toBe(0);
  });

  it("closes the player's sessions with player-left when its socket goes", async () => {
    const { s, p, sessionId } = await session();
    p.close();
    expect(await s.next("sessionClosed")).toEqual({
      type: "sessionClosed",
      sessionId,
      reason: "player-left",
    });
    expect(hub.hub.registry.sessionCount).toBe(0);
  });
});

describe("refusals", () => {
  it("answers garbage with invalid-message, logs it, and keeps relaying another session", async () => {
    const { s, p, sessionId } = await session();
    const intruder = await player();
    const garbage: unknown[] = [
      null,
      42,
      "ping",
      [],
      {},
      { type: 7 },
      { type: "nope" },
      { type: "pong" },
      { type: "pong", sessionId, time: "soon" },
      { type: "pong", sessionId, time: -1 },
      { type: "subscribe", streamerId: "x".repeat(500) },
      { type: "answer", sessionId, sdp: "" },
    ];
    for (const g of garbage) intruder.send(g);
    for (let i = 0; i < garbage.length; i++) {
      expect(await intruder.next("error")).toMatchObject({ type: "error", code: "invalid-message" });
    }
    expect(hub.logs.filter((l) => l.msg === "message refused").length).toBeGreaterThanOrEqual(garbage.length);

    s.send({ type: "ping", sessionId, time: 5 });
    expect(await p.next("ping")).toEqual({ type: "ping", sessionId, time: 5 });
  });

  it("refuses a message naming a session its sender is not part of, and never delivers it", async () => {
    const { s, p, sessionId } = await session();
    const intruder = await player();
    intruder.send({ type: "pong", sessionId, time: 1 });
    intruder.send({ type: "answer", sessionId, sdp: "v=0 forged" });
    intruder.send({ type: "unsubscribe", sessionId });
    for (let i = 0; i < 3; i++) {
      expect(await intruder.next("error")).toMatchObject({ code: "session-not-found", sessionId });
    }
    const otherStreamer = await streamer("cam9");
    otherStreamer.send({ type: "offer", sessionId, sdp: "v=0 forged" });
    expect(await otherStreamer.next("error")).toMatchObject({ code: "session-not-found", sessionId });

    await sleep(50);
    expect(s.received.filter((m) => m.type === "answer" || m.type === "pong")).toEqual([]);
    expect(p.received.filter((m) => m.type === "offer")).toEqual([]);
    expect(hub.hub.registry.sessionCount).toBe(1);
  });

  it("refuses a message of the other role with not-allowed", async () => {
    const { s, p, sessionId } = await session();
    p.send({ type: "offer", sessionId, sdp: "v=0" });
    expect(await p.next("error")).toMatchObject({ code: "not-allowed" });
    s.send({ type: "pong", sessionId, time: 1 });
    expect(await s.next("error")).toMatchObject({ code: "not-allowed" });
    s.send({ type: "subscribe", streamerId: "cam1" });
    expect(await s.next("error")).toMatchObject({ code: "not-allowed" });
  });

  it("disconnects a peer that sends a frame over 64 KiB, and keeps relaying another session", async () => {
    const { s, p, sessionId } = await session();
    const offender = await player();
    const gone = new Promise<string>((resolve) => offender.socket.once("disconnect", resolve));
    offender.send({ type: "answer", sessionId, sdp: "x".repeat(70 * 1024) });
    expect(await gone).toBe("transport close");
    s.send({ type: "ping", sessionId, time: 9 });
    expect(await p.next("ping")).toEqual({ type: "ping", sessionId, time: 9 });
  });

  it("refuses events other than 'message'", async () => {
    const p = await player();
    p.socket.emit("offer", { sdp: "x" });
    expect(await p.next("error")).toMatchObject({ code: "invalid-message" });
  });
});
