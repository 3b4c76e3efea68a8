/**
 * Soak: ten cycles of 1,000 sessions started and ended through a real hub by real socket.io
 * clients, every way a session can end. After each cycle the hub must hold nothing (no
 * session, peer, streamer, heartbeat watch or socket) and, once garbage is collected, its heap
 * must be back where it was: a session that ends must leave no trace.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, expect, test, vi } from "vitest";
import type { SessionCloseReason } from "@heartline/shared";
import { startHub, TestPeer, type TestHub } from "../testing/harness.js";

/**
 * `global.gc` without a special vitest config: exposing it at run time and taking the
 * function from a fresh context is the one way Node allows after start-up.
 */
function exposeGc(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing) return existing;
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}
const gc = exposeGc();

const CYCLES = 10;
/** Sessions per ending per cycle: four endings x 250 = 1,000 sessions a cycle. */
const PER_ENDING = 250;
/** Players (or streamers) per group; each holds PER_ENDING / GROUP sessions. */
const GROUP = 5;
const PER_PEER = PER_ENDING / GROUP;
/** After a full collection the heap is back within this much of its level after cycle 1. */
const HEAP_SLACK_BYTES = 3 * 1024 * 1024;

let h: TestHub;

beforeAll(async () => {
  h = await startHub({
    // A lapse (heartbeat ending) takes 2 s; resume grace kept short for the dropped players.
    heartbeat: { intervalMs: 1000, missedBeats: 2, resumeGraceMs: 300 },
    maxPlayers: 1000,
    limits: {
      subscriptionsPerPlayer: 1000,
      messagesPerSecond: 100_000,
      messageBurst: 100_000,
    },
  });
});

afterAll(async () => {
  await h.close();
});

/** Clients of one cycle only: the harness's own helpers keep every peer until the hub closes. */
function connect(auth: Record<string, unknown>): Promise<TestPeer> {
  return TestPeer.connect(h.url, auth);
}

/** `n` subscriptions from `player` to `streamer`; resolves to their session ids. */
async function subscribe(
  player: TestPeer,
  streamer: TestPeer,
  streamerId: string,
  n: number,
): Promise<string[]> {
  for (let i = 0; i < n; i++) player.send({ type: "subscribe", streamerId });
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const started = await player.next("sessionStarted");
    await streamer.next("playerJoined", (m) => m.sessionId === started.sessionId);
    ids.push(started.sessionId);
  }
  return ids;
}

const until = (condition: () => boolean, timeoutMs: number, what: string): Promise<void> =>
  vi.waitFor(
    () => {
      if (!condition()) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    },
    { timeout: timeoutMs, interval: 20 },
  );

/** One cycle: 1,000 sessions, 250 of each ending; resolves once the hub holds nothing again. */
async function cycle(n: number): Promise<Partial<Record<SessionCloseReason, number>>> {
  const ended: Partial<Record<SessionCloseReason, number>> = {};
  const count = (session: { closeReason: SessionCloseReason | undefined }): void => {
    const reason = session.closeReason ?? "hub-shutdown";
    ended[reason] = (ended[reason] ?? 0) + 1;
  };
  h.hub.registry.observer.on("sessionClosed", count);
  const everyone: TestPeer[] = [];
  const peer = async (auth: Record<string, unknown>): Promise<TestPeer> => {
    const p = await connect(auth);
    everyone.push(p);
    return p;
  };
  try {
    // Unsubscribed: a live heartbeat round trip first (ping with an RTT, pong), then goodbye.
    const streamerU = await peer({ role: "streamer", streamerId: `u-${n}` });
    for (let i = 0; i < GROUP; i++) {
      const p = await peer({ role: "player" });
      const ids = await subscribe(p, streamerU, `u-${n}`, PER_PEER);
      for (const sessionId of ids) streamerU.send({ type: "ping", sessionId, time: i, rttMs: 1 });
      for (const sessionId of ids) {
        const ping = await p.next("ping", (m) => m.sessionId === sessionId);
        p.send({ type: "pong", sessionId, time: ping.time });
      }
      for (const sessionId of ids) await streamerU.next("pong", (m) => m.sessionId === sessionId);
      for (const sessionId of ids) p.send({ type: "unsubscribe", sessionId });
    }

    // Player left: three say goodbye, two drop without one (ended after the resume grace).
    const streamerP = await peer({ role: "streamer", streamerId: `p-${n}` });
    for (let i = 0; i < GROUP; i++) {
      const p = await peer({ role: "player" });
      await subscribe(p, streamerP, `p-${n}`, PER_PEER);
      if (i < 3) p.close();
      else await p.drop();
    }

    // Streamer left: five streamers, each watched 50 times by five players.
    const streamersS: TestPeer[] = [];
    for (let i = 0; i < GROUP; i++)
      streamersS.push(await peer({ role: "streamer", streamerId: `s-${n}-${i}` }));
    for (let j = 0; j < GROUP; j++) {
      const p = await peer({ role: "player" });
      for (let i = 0; i < GROUP; i++) {
        await subscribe(p, streamersS[i] as TestPeer, `s-${n}-${i}`, PER_PEER / GROUP);
      }
    }
    for (const s of streamersS) s.close();

    // Streamer heartbeat timeout: nobody ever pings; the hub's deadline ends them.
    const streamerT = await peer({ role: "streamer", streamerId: `t-${n}` });
    for (let i = 0; i < GROUP; i++) {
      const p = await peer({ role: "player" });
      await subscribe(p, streamerT, `t-${n}`, PER_PEER);
    }

    const registry = h.hub.registry;
    await until(() => registry.sessionCount === 0, 10_000, `cycle ${n}: every session ended`);
    for (const p of everyone) p.close();
    await until(
      () => registry.peerCount === 0 && h.hub.io.of("/").sockets.size === 0,
      10_000,
      `cycle ${n}: every peer and socket gone`,
    );
  } finally {
    h.hub.registry.observer.off("sessionClosed", count);
    for (const p of everyone) p.close();
  }
  return ended;
}

test(
  `${CYCLES} cycles of ${PER_ENDING * 4} sessions leave an empty registry and no heap growth`,
  { timeout: 120_000 },
  async () => {
    const registry = h.hub.registry;
    const heap = (): number => {
      gc();
      gc();
      return process.memoryUsage().heapUsed;
    };
    const heaps: number[] = [];
    const started = Date.now();
    for (let n = 1; n <= CYCLES; n++) {
      const ended = await cycle(n);
      expect(ended).toEqual({
        unsubscribed: PER_ENDING,
        "player-left": PER_ENDING,
        "streamer-left": PER_ENDING,
        "streamer-heartbeat-timeout": PER_ENDING,
      });
      expect({
        sessions: registry.sessionCount,
        watched: registry.watchedCount,
        peers: registry.peerCount,
        streamers: registry.streamerCount,
        listed: registry.listStreamers().length,
        sockets: h.hub.io.of("/").sockets.size,
      }).toEqual({ sessions: 0, watched: 0, peers: 0, streamers: 0, listed: 0, sockets: 0 });
      // The harness keeps every log line; they are ours, not the hub's.
      h.logs.splice(0);
      heaps.push(heap());
    }
    const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);
    // The figures are the point of a soak: print them even when it passes.
    // eslint-disable-next-line no-console
    console.log(
      `leak soak: ${CYCLES * PER_ENDING * 4} sessions in ${Date.now() - started} ms; ` +
        `heap after each cycle (MB): ${heaps.map(mb).join(" ")}`,
    );
    // Cycle 1 warms up (compiled code, socket.io and pino buffers); every later cycle must
    // come back to where it left off.
    const [baseline = 0, ...rest] = heaps;
    for (const used of rest) expect(used - baseline).toBeLessThan(HEAP_SLACK_BYTES);
  },
);
