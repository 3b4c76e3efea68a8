/**
 * Integration below socket.io's client: a raw WebSocket speaking (and breaking) the Engine.IO /
 * socket.io wire format. Whatever one socket sends, the offender alone is closed and another
 * session keeps relaying; a reader that stops reading is disconnected before its buffer grows
 * without bound.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { refusedHandshake, sleep, startHub, type TestHub } from "../testing/harness.js";

let hub: TestHub | undefined;
afterEach(async () => {
  await hub?.close();
  hub = undefined;
});

/** A raw socket.io client: resolves once connected to the main namespace as a player. */
function rawPlayer(url: string): Promise<{ ws: WebSocket; frames: string[]; closed: Promise<number> }> {
  return rawPeer(url, '{"role":"player"}', true);
}

/**
 * A raw socket.io client with the given handshake `auth` (JSON); `answerPings` false makes a hung
 * process: its socket stays open but nothing answers, not even engine.io's pings.
 */
async function rawPeer(
  url: string,
  auth: string,
  answerPings: boolean,
): Promise<{ ws: WebSocket; frames: string[]; closed: Promise<number> }> {
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`);
  const frames: string[] = [];
  const closed = new Promise<number>((resolve) =>
    ws.once("close", (code) => {
      resolve(code);
    }),
  );
  ws.on("message", (data: Buffer) => {
    const frame = data.toString();
    frames.push(frame);
    if (frame === "2" && answerPings) ws.send("3"); // answer engine.io pings like a real client
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("error", reject);
    ws.once("open", () => {
      resolve();
    });
  });
  const until = (predicate: (f: string) => boolean): Promise<void> =>
    vi.waitFor(
      () => {
        if (!frames.some(predicate)) throw new Error(`no such frame; got ${JSON.stringify(frames)}`);
      },
      { timeout: 2000, interval: 10 },
    );
  await until((f) => f.startsWith("0{"));
  ws.send(`40${auth}`);
  await until((f) => f.startsWith('42["message",{"type":"config"'));
  return { ws, frames, closed };
}

const GARBAGE: [string, string | Buffer][] = [
  ["an unterminated event", "42["],
  ["a bare packet type", "4"],
  ["an unknown packet type", "9hello"],
  ["a non-string event name", "42[1,2]"],
  ["an event with no name", "42[]"],
  ["a huge ack id", '421234567890123456789012345678901234567890["message",{}]'],
  ["broken JSON", '42["message",{"type":'],
  ["deeply nested arrays", `42["message",${"[".repeat(50_000)}${"]".repeat(50_000)}]`],
  ["deeply nested objects", `42["message",${'{"a":'.repeat(20_000)}1${"}".repeat(20_000)}]`],
  ["a binary attachment claim with no attachment", '451-["message",{"_placeholder":true,"num":0}]'],
  ["random bytes", Buffer.from([0xff, 0x00, 0xfe, 0x01, 0x80, 0x7f])],
  ["a connect to an unknown namespace", "40/admin-does-not-exist,"],
];

describe("wire garbage from a raw WebSocket", () => {
  it.each(GARBAGE)(
    "%s: the offender is refused or closed, another session keeps relaying",
    async (_name, frame) => {
      hub = await startHub();
      const { s, p, sessionId } = await hub.session("cam1");
      const raw = await rawPlayer(hub.url);
      raw.ws.send(frame);
      // Either the hub closes the offender or it answers with an error; it never goes down.
      await Promise.race([raw.closed, sleep(500)]);
      for (let i = 0; i < 3; i++) {
        s.send({ type: "ping", sessionId, time: i });
        expect(await p.next("ping")).toMatchObject({ sessionId, time: i });
      }
      if (raw.ws.readyState === WebSocket.OPEN) {
        // Still open: it is either served correctly (the garbage changed nothing) or closed now
        // (socket.io's parser may wait for the rest of a broken packet and fail on the next one).
        raw.ws.send('42["message",{"type":"listStreamers"}]');
        const served = (): boolean => raw.frames.some((f) => f.includes('"streamerList"'));
        // A function, so the compiler does not assume the state cannot change while we wait.
        const open = (): boolean => raw.ws.readyState === WebSocket.OPEN;
        for (let i = 0; i < 100 && !served() && open(); i++) await sleep(10);
        expect(served() || !open()).toBe(true);
        raw.ws.close();
      }
    },
  );

  it("a frame over the size limit closes only the offender", async () => {
    hub = await startHub({ limits: { maxMessageBytes: 4096 } });
    const { s, p, sessionId } = await hub.session("cam1");
    const raw = await rawPlayer(hub.url);
    raw.ws.send(`42["message",{"type":"subscribe","streamerId":"${"a".repeat(10_000)}"}]`);
    expect(await raw.closed).toBe(1009); // "message too big"
    s.send({ type: "ping", sessionId, time: 1 });
    expect(await p.next("ping")).toMatchObject({ time: 1 });
  });
});

describe("a stalled reader", () => {
  it("is disconnected once its outbound buffer passes the cap; the hub's memory stays bounded", async () => {
    hub = await startHub({
      limits: { maxBufferedBytes: 256 * 1024, messageBurst: 2000, messagesPerSecond: 2000 },
    });
    const h = hub;
    const streamer = await h.streamer("cam1");
    const raw = await rawPlayer(h.url);
    raw.ws.send('42["message",{"type":"subscribe","streamerId":"cam1"}]');
    const joined = await streamer.next("playerJoined");
    // Stop reading: the kernel's buffers fill, then the WebSocket's own buffer grows.
    (raw.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const heapBefore = process.memoryUsage().heapUsed;
    const sdp = "x".repeat(50_000);
    for (let i = 0; i < 600; i++) {
      streamer.send({ type: "offer", sessionId: joined.sessionId, sdp });
      if (i % 50 === 49) await sleep(20);
    }
    const closed = await streamer.next("sessionClosed", undefined, 10_000);
    expect(closed).toMatchObject({ sessionId: joined.sessionId, reason: "player-left" });
    expect(h.logs).toContainEqual(
      expect.objectContaining({ msg: expect.stringContaining("stalled reader") as unknown }),
    );
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toContain('heartline_stalled_readers_total{protocol="heartline"} 1');
    // 30 MB were sent at the stalled reader; what the hub holds for it stays near the cap.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(20 * 1024 * 1024);
    raw.ws.terminate();
  });
});

describe("transports that never send socket.io's CONNECT", () => {
  /** An engine.io WebSocket that completes the transport handshake and then says nothing. */
  async function idleTransport(url: string): Promise<{ ws: WebSocket; status: number }> {
    const ws = new WebSocket(`${url.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`);
    return new Promise((resolve) => {
      ws.once("message", () => {
        resolve({ ws, status: 101 });
      });
      ws.once("unexpected-response", (_req, res) => {
        resolve({ ws, status: res.statusCode ?? 0 });
      });
      ws.once("error", () => undefined);
    });
  }

  it("count against limits.connectionsPerIp: idle ones cannot pile up, and a real client is refused with the code", async () => {
    hub = await startHub({ limits: { connectionsPerIp: 3 } });
    const h = hub;
    const idle: WebSocket[] = [];
    const open = async (): Promise<number> => {
      const { ws, status } = await idleTransport(h.url);
      idle.push(ws);
      return status;
    };
    expect([await open(), await open(), await open()]).toEqual([101, 101, 101]);
    // A real client beside three idle transports: refused with the code it can read.
    expect(await refusedHandshake(h.url, { role: "player" })).toBe("too-many-connections");
    // More idle transports are refused at the transport (400) past twice the limit plus ten: 16, not 250.
    const statuses: number[] = [];
    for (let i = 0; i < 20; i += 1) statuses.push(await open());
    const opened = 3 + statuses.filter((status) => status === 101).length;
    expect(opened).toBeLessThanOrEqual(16);
    expect(statuses.slice(-4)).toEqual([400, 400, 400, 400]);
    for (const ws of idle) ws.terminate();
    await vi.waitFor(async () => {
      const p = await h.player();
      p.close();
    });
  });
});

describe("a streamer whose heartbeat lapsed", () => {
  it("gets no new sessions until it is heard again (a hung process keeps its socket open)", async () => {
    hub = await startHub({ heartbeat: { intervalMs: 100, missedBeats: 3 } });
    const h = hub;
    const raw = await rawPeer(h.url, '{"role":"streamer","streamerId":"cam9"}', false);
    const p = await h.player();
    p.send({ type: "subscribe", streamerId: "cam9" });
    const { sessionId } = await p.next("sessionStarted");
    await p.next("sessionClosed", (m) => m.reason === "streamer-heartbeat-timeout", 3000);
    const p2 = await h.player();
    p2.send({ type: "subscribe", streamerId: "cam9" });
    const refused = await p2.next("error");
    expect(refused).toMatchObject({ code: "streamer-not-found" });
    expect(refused.message).toContain("not responding");
    expect(h.hub.registry.sessionCount).toBe(0);
    // It wakes up: anything from it (a ping for the session it still believes in) proves it runs.
    raw.ws.send(`42["message",{"type":"ping","sessionId":"${sessionId}","time":1}]`);
    await vi.waitFor(() => {
      expect(raw.frames.some((f) => f.includes('"session-not-found"'))).toBe(true);
    });
    p2.send({ type: "subscribe", streamerId: "cam9" });
    expect(await p2.next("sessionStarted")).toMatchObject({ streamerId: "cam9" });
    raw.ws.terminate();
  });
});
