/**
 * Integration: the heartbeat engine with a real hub and real socket.io clients. Stale before
 * closed, resume within and past the grace period, heartbeat data, media-path endings, the
 * enforce switch and live config.
 */
import { afterEach, describe, expect, it } from "vitest";
import { HubConfigSchema } from "@heartline/shared/config";
import type { HubMessage } from "@heartline/shared";
import { systemClock } from "@heartline/shared/timing";
import { sessionView } from "../admin/views.js";
import { refusedHandshake, sleep, startHub, TestPeer, type TestHub } from "../testing/harness.js";

const INTERVAL = 100;
const MISSED = 4;
const TIMEOUT = INTERVAL * MISSED;

let hub: TestHub | undefined;
afterEach(async () => {
  await hub?.close();
  hub = undefined;
});

async function start(heartbeat: Record<string, unknown> = {}): Promise<TestHub> {
  hub = await startHub({ heartbeat: { intervalMs: INTERVAL, missedBeats: MISSED, ...heartbeat } });
  return hub;
}

/** Pings every interval and answers pings, each until stopped. */
function beat(s: TestPeer, p: TestPeer, sessionId: string) {
  let pinging = true;
  let answering = true;
  let answerer = p;
  const timer = setInterval(() => {
    if (pinging)
      s.send({
        type: "ping",
        sessionId,
        time: performance.now(),
        rttMs: 2,
        stats: { fps: 30, bitrateKbps: 800 },
      });
  }, INTERVAL);
  const onPing = (m: HubMessage): void => {
    if (answering && m.type === "ping") {
      answerer.send({
        type: "pong",
        sessionId: m.sessionId,
        time: m.time,
        stats: { framesDecoded: 100, fps: 30, jitterMs: 3, packetsLost: 0 },
      });
    }
  };
  p.socket.on("message", onPing);
  return {
    pinging: (on: boolean) => (pinging = on),
    answering: (on: boolean) => (answering = on),
    /** Follows the player onto a resumed socket. */
    follow: (next: TestPeer) => {
      answerer = next;
      next.socket.on("message", onPing);
    },
    stop: () => {
      clearInterval(timer);
    },
  };
}

/** The session's state changes as an end saw them (a media-only update repeats the state: skipped). */
const states = (peer: TestPeer, sessionId: string): string[] =>
  peer.seen
    .filter((m) => m.type === "sessionState" && m.sessionId === sessionId)
    .map((m) => (m.type === "sessionState" ? `${m.state}${m.late ? `:${m.late}` : ""}` : ""))
    .filter((state, i, all) => i === 0 || state !== all[i - 1]);

describe("stale before closed", () => {
  it("tells both ends live on the first pong, stale when the player misses a beat, live when it is back", async () => {
    const h = await start();
    const { s, p, sessionId } = await h.session();
    const b = beat(s, p, sessionId);
    await s.next("sessionState", (m) => m.state === "live");
    b.answering(false);
    expect(await s.next("sessionState", (m) => m.state === "stale")).toMatchObject({ late: "player" });
    expect(await p.next("sessionState", (m) => m.state === "stale")).toMatchObject({ late: "player" });
    b.answering(true);
    await s.next("sessionState", (m) => m.state === "live");
    await sleep(TIMEOUT * 2);
    b.stop();
    expect(states(s, sessionId)).toEqual(["live", "stale:player", "live"]);
    expect(states(p, sessionId)).toEqual(["live", "stale:player", "live"]);
    expect(h.hub.registry.sessionCount).toBe(1);
  });

  it("marks the streamer late when its pings pause, and closes only past the timeout", async () => {
    const h = await start();
    const { s, p, sessionId } = await h.session();
    const b = beat(s, p, sessionId);
    await p.next("sessionState", (m) => m.state === "live");
    b.pinging(false);
    expect(await p.next("sessionState", (m) => m.state === "stale")).toMatchObject({ late: "streamer" });
    const closed = await p.next("sessionClosed");
    b.stop();
    expect(closed.reason).toBe("streamer-heartbeat-timeout");
    expect(states(p, sessionId)).toEqual(["live", "stale:streamer"]);
  });
});

describe("resume", () => {
  it("gives a player that reconnects within the grace period its session back, same id, no renegotiation", async () => {
    const h = await start();
    const { s, p, sessionId } = await h.session();
    const b = beat(s, p, sessionId);
    await s.next("sessionState", (m) => m.state === "live");
    const token = p.resumeToken;
    const firstConfig = p.seen[0];

    await p.drop();
    expect(await s.next("sessionState", (m) => m.state === "stale")).toMatchObject({ late: "player" });
    await sleep(TIMEOUT / 2);

    const back = new TestPeer(h.url, { role: "player", resumeToken: token });
    b.follow(back);
    const config = await back.next("config");
    expect(config.peerId).toBe(firstConfig?.type === "config" ? firstConfig.peerId : "(none)");
    expect(await back.next("resumed")).toEqual({ type: "resumed", sessionIds: [sessionId] });
    await s.next("sessionState", (m) => m.state === "live");
    expect(back.seen.slice(0, 3).map((m) => m.type)).toEqual(["config", "resumed", "sessionState"]);
    const ping = await back.next("ping");
    expect(ping.sessionId).toBe(sessionId);
    await sleep(TIMEOUT * 2);
    b.stop();
    expect(s.seen.filter((m) => m.type === "sessionClosed")).toEqual([]);
    expect(s.seen.filter((m) => m.type === "playerJoined")).toHaveLength(1);
    expect(h.hub.registry.sessionCount).toBe(1);
    back.close();
  });

  it("closes the session with player-left once the grace period has passed, and a late token resumes nothing", async () => {
    const h = await start({ resumeGraceMs: 300 });
    const { s, p, sessionId } = await h.session();
    const token = p.resumeToken;
    const droppedAt = performance.now();
    await p.drop();
    const closed = await s.next("sessionClosed");
    expect(closed).toEqual({ type: "sessionClosed", sessionId, reason: "player-left" });
    expect(performance.now() - droppedAt).toBeGreaterThanOrEqual(290);

    const late = await h.player({ resumeToken: token });
    expect(await late.next("resumed")).toEqual({ type: "resumed", sessionIds: [] });
  });

  it("keeps an away streamer's id reserved and unlisted, and lists it again when it resumes", async () => {
    const h = await start({ resumeGraceMs: 2000 });
    const { s, p, sessionId } = await h.session("cam7");
    const token = s.resumeToken;
    await s.drop();
    // Said as a dropped connection, not as a missed beat.
    expect(await p.next("sessionState", (m) => m.state === "stale")).toMatchObject({
      late: "streamer",
      away: true,
    });
    expect((await p.next("streamerList", (m) => m.streamers.length === 0)).streamers).toEqual([]);

    expect(await refusedHandshake(h.url, { role: "streamer", streamerId: "cam7" })).toBe("streamer-id-taken");
    // A token only resumes the id it was issued for: under another id it is a new streamer.
    const other = await h.streamer("cam8", { resumeToken: token });
    expect(await other.next("resumed")).toEqual({ type: "resumed", sessionIds: [] });

    const back = await h.streamer("cam7", { resumeToken: token });
    expect(await back.next("resumed")).toEqual({ type: "resumed", sessionIds: [sessionId] });
    const listed = await p.next("streamerList", (m) => m.streamers.some((x) => x.streamerId === "cam7"));
    expect(listed.streamers).toContainEqual({ streamerId: "cam7", players: 1 });
    back.send({ type: "ping", sessionId, time: 1 });
    expect(await p.next("ping")).toMatchObject({ sessionId, time: 1 });
  });

  it("tells a resumed streamer playerJoined again for a session it has made no offer in", async () => {
    const h = await start({ resumeGraceMs: 2000 });
    const { s, sessionId } = await h.session("cam5");
    const offered = await h.session("cam5");
    offered.s.send({ type: "offer", sessionId: offered.sessionId, sdp: "v=0" });
    const token = s.resumeToken;
    await s.drop();
    const back = await h.streamer("cam5", { resumeToken: token });
    const resumed = await back.next("resumed");
    expect([...resumed.sessionIds].sort()).toEqual([sessionId, offered.sessionId].sort());
    expect(await back.next("playerJoined")).toEqual({ type: "playerJoined", sessionId });
    // Only the session with no offer yet: the other one's playerJoined evidently arrived.
    await sleep(200);
    expect(back.seen.filter((m) => m.type === "playerJoined")).toEqual([{ type: "playerJoined", sessionId }]);
  });

  it("lets a token take over from a socket the hub still thinks is open, without ending anything", async () => {
    const h = await start();
    const { s, p, sessionId } = await h.session();
    const gone = new Promise<string>((resolve) => p.socket.once("disconnect", resolve));
    const again = await h.player({ resumeToken: p.resumeToken });
    expect(await again.next("resumed")).toEqual({ type: "resumed", sessionIds: [sessionId] });
    expect(await gone).toBe("io server disconnect");
    s.send({ type: "ping", sessionId, time: 3 });
    expect(await again.next("ping")).toMatchObject({ time: 3 });
    expect(h.hub.registry.sessionCount).toBe(1);
  });

  it("a player's token does not resume a streamer", async () => {
    const h = await start();
    const p = await h.player();
    const s = await h.streamer("cam1", { resumeToken: p.resumeToken });
    expect(await s.next("resumed")).toEqual({ type: "resumed", sessionIds: [] });
    expect(s.seen[0]?.type === "config" && s.seen[0].peerId).not.toBe(
      p.seen[0]?.type === "config" && p.seen[0].peerId,
    );
  });
});

describe("heartbeat data and media path", () => {
  it("keeps the latest heartbeat data per session and relays it unchanged", async () => {
    const h = await start();
    const { s, p, sessionId } = await h.session();
    s.send({
      type: "ping",
      sessionId,
      time: 7,
      rttMs: 4.5,
      mediaRttMs: 1.5,
      stats: { fps: 29, bitrateKbps: 950 },
    });
    expect(await p.next("ping")).toEqual({
      type: "ping",
      sessionId,
      time: 7,
      rttMs: 4.5,
      mediaRttMs: 1.5,
      stats: { fps: 29, bitrateKbps: 950 },
    });
    const stats = { framesDecoded: 321, fps: 30, jitterMs: 2.5, packetsLost: 1 };
    p.send({ type: "pong", sessionId, time: 7, stats });
    expect(await s.next("pong")).toEqual({ type: "pong", sessionId, time: 7, stats });
    const session = [...h.hub.registry.sessions()][0];
    expect(session?.heartbeat).toEqual({
      rttMs: 4.5,
      mediaRttMs: 1.5,
      sendStats: { fps: 29, bitrateKbps: 950 },
      receiveStats: stats,
    });
  });

  it("tells both ends, the API and the dashboard whether video reaches the player, whenever that changes", async () => {
    const h = await start();
    const { s, p, sessionId } = await h.session();
    const pong = (framesDecoded: number): void => {
      p.send({
        type: "pong",
        sessionId,
        time: 1,
        stats: { framesDecoded, fps: 30, jitterMs: 1, packetsLost: 0 },
      });
    };
    pong(100);
    await p.next("sessionState", (m) => m.state === "live");
    pong(130);
    for (const end of [s, p]) {
      expect(await end.next("sessionState", (m) => m.media !== undefined)).toMatchObject({
        state: "live",
        media: "flowing",
      });
    }
    // What GET /api/sessions and the dashboard show of it.
    const api = (): unknown => {
      const session = [...h.hub.registry.sessions()][0];
      return session && sessionView(session, systemClock).media;
    };
    expect(api()).toBe("flowing");
    pong(130); // signaling live, video dead
    for (const end of [s, p]) {
      expect(await end.next("sessionState", (m) => m.media !== undefined)).toMatchObject({
        state: "live",
        media: "stalled",
      });
    }
    expect(api()).toBe("stalled");
    pong(130); // no change, nothing said
    pong(10); // a new peer connection counts from 0: a new baseline, not a verdict
    await sleep(100);
    expect(p.received.filter((m) => m.type === "sessionState")).toEqual([]);
  });

  it.each(["streamer", "player"] as const)(
    "closes the session with media-timeout when the %s reports a dead media path",
    async (who) => {
      const h = await start();
      const { s, p, sessionId } = await h.session();
      (who === "streamer" ? s : p).send({ type: "endSession", sessionId, reason: "media-timeout" });
      expect(await s.next("sessionClosed")).toEqual({
        type: "sessionClosed",
        sessionId,
        reason: "media-timeout",
      });
      expect(await p.next("sessionClosed")).toEqual({
        type: "sessionClosed",
        sessionId,
        reason: "media-timeout",
      });
    },
  );
});

describe("operator switches and live config", () => {
  it("with heartbeat.enforce=false keeps measuring but never tears down", async () => {
    const h = await start({ enforce: false });
    const { s, p, sessionId } = await h.session();
    await sleep(TIMEOUT * 3);
    expect(await p.next("sessionState")).toMatchObject({ state: "stale", late: "streamer" });
    expect(h.hub.registry.sessionCount).toBe(1);
    expect(h.logs).toContainEqual(
      expect.objectContaining({
        msg: expect.stringContaining("heartbeat.enforce is false") as unknown,
        sessionId,
      }),
    );
    s.send({ type: "ping", sessionId, time: 1 });
    expect(await p.next("sessionState", (m) => m.state === "live")).toBeTruthy();
  });

  it.each([
    [false, 0],
    [true, 2],
  ])(
    "logs ping/pong traffic only when heartbeat.logPingPong is %s; other messages always",
    async (on, lines) => {
      const h = await start({ logPingPong: on });
      const { s, p, sessionId } = await h.session();
      s.send({ type: "ping", sessionId, time: 1 });
      await p.next("ping");
      p.send({ type: "pong", sessionId, time: 1 });
      await s.next("pong");
      s.send({ type: "offer", sessionId, sdp: "v=0" });
      await p.next("offer");
      const chatter = h.logs.filter((l) => l.msg === "ping relayed" || l.msg === "pong relayed");
      expect(chatter).toHaveLength(lines);
      expect(h.logs).toContainEqual(
        expect.objectContaining({ msg: "relayed to player", type: "offer", sessionId }),
      );
    },
  );

  it("pushes a new config to every peer and applies the new timeout to running sessions", async () => {
    const h = await start();
    const { s, p, sessionId } = await h.session();
    const next = HubConfigSchema.parse({ ...h.config, heartbeat: { intervalMs: 1000, missedBeats: 3 } });
    const before = performance.now();
    h.hub.reconfigure(next);
    for (const peer of [s, p]) {
      const config = await peer.next("config", (m) => m.heartbeat.intervalMs === 1000);
      expect(config.heartbeat).toMatchObject({ intervalMs: 1000, timeoutMs: 3000, staleAfterMs: 1500 });
    }
    // Under the old 400 ms timeout the silent session would be gone by now.
    await sleep(TIMEOUT * 2);
    expect(h.hub.registry.sessionCount).toBe(1);
    const closed = await p.next("sessionClosed", undefined, 5000);
    expect(closed).toMatchObject({ sessionId, reason: "streamer-heartbeat-timeout" });
    expect(performance.now() - before).toBeGreaterThan(2900);
    expect(h.hub.io.engine.opts.pingInterval).toBe(1000);
  });

  it("tells clients the derived engine.io ping interval", async () => {
    const h = await start();
    const p = await h.player();
    // engine.io-client keeps the handshake's figures in private fields.
    const engine = p.socket.io.engine as unknown as { _pingInterval: number; _pingTimeout: number };
    expect(engine._pingInterval).toBe(1000);
    expect(engine._pingInterval + engine._pingTimeout).toBeGreaterThan(TIMEOUT);
  });
});
