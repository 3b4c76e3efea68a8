/**
 * Integration: the adaptive detector, probes, media checks and the goodbye with a real hub and
 * real socket.io clients. Who is blamed, that nothing alive is torn down, and that a dead end is
 * found well inside the timeout; the fixed detector and peers without the features are judged
 * by the timeout as before.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { HubMessage } from "@heartline/shared";
import { sleep, startHub, type TestHub, type TestPeer } from "../testing/harness.js";

const INTERVAL = 300;
const MISSED = 10;
const TIMEOUT = INTERVAL * MISSED; // 3 s: far from the adaptive bound, so the two are told apart
const PAUSE = 300;

let hub: TestHub | undefined;
const timers: ReturnType<typeof setInterval>[] = [];
afterEach(async () => {
  for (const timer of timers.splice(0)) clearInterval(timer);
  await hub?.close();
  hub = undefined;
});

const FEATURES = { features: ["probe", "mediaCheck"] };

async function start(heartbeat: Record<string, unknown> = {}): Promise<TestHub> {
  hub = await startHub({
    heartbeat: { intervalMs: INTERVAL, missedBeats: MISSED, pauseToleranceMs: PAUSE, ...heartbeat },
  });
  return hub;
}

interface Ends {
  s: TestPeer;
  p: TestPeer;
  sessionId: string;
  /** The streamer stops everything: beats and probe answers (a hung process). */
  hang(): void;
  /** Whether the player says media from the streamer flows when asked. */
  media: { flowing: boolean };
}

/** A session whose ends beat and answer probes and media checks until told otherwise. */
async function session(
  h: TestHub,
  options: { streamer?: Record<string, unknown>; player?: Record<string, unknown> } = {
    streamer: FEATURES,
    player: FEATURES,
  },
): Promise<Ends> {
  const s = await h.streamer("cam1", options.streamer ?? {});
  const p = await h.player(options.player ?? {});
  p.send({ type: "subscribe", streamerId: "cam1" });
  const { sessionId } = await p.next("sessionStarted");
  await s.next("playerJoined");
  let hung = false;
  const media = { flowing: true };
  timers.push(
    setInterval(() => {
      if (!hung) s.send({ type: "ping", sessionId, time: performance.now() });
    }, INTERVAL),
  );
  s.socket.on("message", (m: HubMessage) => {
    if (!hung && m.type === "probe") s.send({ type: "probeAck", probeId: m.probeId });
  });
  p.socket.on("message", (m: HubMessage) => {
    if (m.type === "ping") p.send({ type: "pong", sessionId: m.sessionId, time: m.time });
    if (m.type === "probe") p.send({ type: "probeAck", probeId: m.probeId });
    if (m.type === "mediaCheck")
      p.send({ type: "mediaReport", sessionId: m.sessionId, checkId: m.checkId, flowing: media.flowing });
  });
  await p.next("sessionState", (m) => m.state === "live");
  return {
    s,
    p,
    sessionId,
    hang: () => {
      hung = true;
    },
    media,
  };
}

/** Lets the detector learn the ends' rhythm. */
const settle = (): Promise<void> => sleep(INTERVAL * 6);

describe("adaptive detector", () => {
  it("ends a hung streamer on both ends well inside the timeout: probe unanswered, no media", async () => {
    const h = await start();
    const ends = await session(h);
    await settle();
    ends.media.flowing = false;
    const hungAt = performance.now();
    ends.hang();
    const closed = await ends.p.next("sessionClosed", () => true, TIMEOUT * 2);
    const detectedMs = performance.now() - hungAt;
    expect(closed.reason).toBe("streamer-heartbeat-timeout");
    expect((await ends.s.next("sessionClosed")).reason).toBe("streamer-heartbeat-timeout");
    // The bound: interval + margin + pause tolerance, far below the 3 s timeout.
    expect(detectedMs).toBeLessThan(TIMEOUT * 0.7);
    expect(ends.s.seen.some((m) => m.type === "probe")).toBe(true);
    expect(ends.p.seen.some((m) => m.type === "mediaCheck" && m.sessionId === ends.sessionId)).toBe(true);
  });

  it("keeps a streamer that is silent on signaling while its media flows, until the timeout", async () => {
    const h = await start();
    const ends = await session(h);
    await settle();
    const hungAt = performance.now();
    ends.hang();
    const closed = await ends.p.next("sessionClosed", () => true, TIMEOUT * 2);
    expect(closed.reason).toBe("streamer-heartbeat-timeout");
    expect(performance.now() - hungAt).toBeGreaterThan(TIMEOUT - INTERVAL);
  });

  it("never ends a streamer that answers its probes sooner than the timeout, and never a healthy one", async () => {
    const h = await start();
    const ends = await session(h);
    await sleep(TIMEOUT * 1.5);
    expect(ends.p.seen.some((m) => m.type === "sessionClosed")).toBe(false);
    expect(ends.s.seen.some((m) => m.type === "sessionClosed")).toBe(false);
  });

  it("judges a streamer that declared no features by the timeout alone, and sends it nothing new", async () => {
    const h = await start();
    const ends = await session(h, { streamer: {}, player: FEATURES });
    await settle();
    ends.media.flowing = false;
    const hungAt = performance.now();
    ends.hang();
    const closed = await ends.p.next("sessionClosed", () => true, TIMEOUT * 2);
    expect(closed.reason).toBe("streamer-heartbeat-timeout");
    expect(performance.now() - hungAt).toBeGreaterThan(TIMEOUT - INTERVAL);
    expect(ends.s.seen.some((m) => m.type === "probe")).toBe(false);
  });

  it("the fixed detector waits for the timeout even with probes on both ends", async () => {
    const h = await start({ detector: "fixed" });
    const ends = await session(h);
    await settle();
    ends.media.flowing = false;
    const hungAt = performance.now();
    ends.hang();
    await ends.p.next("sessionClosed", () => true, TIMEOUT * 2);
    expect(performance.now() - hungAt).toBeGreaterThan(TIMEOUT - INTERVAL);
    expect(ends.s.seen.some((m) => m.type === "probe")).toBe(false);
  });
});

describe("killed or dropped", () => {
  it("ends the session at once when the streamer's socket drops and no media arrives from it", async () => {
    const h = await start();
    const ends = await session(h);
    ends.media.flowing = false;
    ends.hang();
    await ends.s.drop();
    const droppedAt = performance.now();
    const closed = await ends.p.next("sessionClosed", () => true, TIMEOUT * 2);
    expect(closed.reason).toBe("streamer-left");
    // Not the resume grace (the timeout): the player's media report decided.
    expect(performance.now() - droppedAt).toBeLessThan(TIMEOUT / 2);
  });

  it("holds the session for a resume when the socket drops but media still flows", async () => {
    const h = await start();
    const ends = await session(h);
    ends.hang();
    await ends.s.drop();
    expect(await ends.p.next("sessionState", (m) => m.state === "stale")).toMatchObject({
      late: "streamer",
      away: true,
    });
    await sleep(TIMEOUT / 2);
    expect(ends.p.seen.some((m) => m.type === "sessionClosed")).toBe(false);
  });
});

describe("bye", () => {
  it("ends the sender's sessions at once, even with resume on, and voids its resume token", async () => {
    const h = await start();
    const ends = await session(h);
    const token = ends.s.resumeToken;
    ends.s.send({ type: "bye" });
    expect((await ends.p.next("sessionClosed")).reason).toBe("streamer-left");
    await sleep(100);
    expect(ends.s.socket.connected).toBe(false);
    expect(h.hub.registry.peerByToken(token)).toBeUndefined();
  });
});
