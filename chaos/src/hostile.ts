/**
 * A burst of hostile input (issue 14 §1), as a child process of its own so its CPU never delays
 * the runner's clock: garbage messages, raw socket.io garbage, a flood, spoofed session ids (the
 * ids of real sessions, from /api/sessions) from a player and a streamer, and forged frames
 * published on the cluster's Redis channels. None of it may end or disturb a legitimate session,
 * or crash a hub; the checker holds the run to that. Exits after `durationMs` at the latest.
 *
 * argv[2]: a JSON HostilePlan.
 */
import { createConnection } from "node:net";
import { io, type Socket } from "socket.io-client";

export interface HostilePlan {
  hubs: string[];
  redisPort: number;
  keyPrefix: string;
  sessionIds: string[];
  durationMs: number;
}

const plan = JSON.parse(process.argv[2] ?? "{}") as HostilePlan;
const sockets: Socket[] = [];

function connect(url: string, auth: Record<string, unknown>): Promise<Socket> {
  const socket = io(url, {
    transports: ["websocket"],
    forceNew: true,
    reconnection: false,
    timeout: 3000,
    auth,
  });
  sockets.push(socket);
  return new Promise((resolve) => {
    socket.once("connect", () => {
      resolve(socket);
    });
    socket.once("connect_error", () => {
      resolve(socket);
    });
  });
}

const GARBAGE: unknown[] = [
  "not an object",
  42,
  null,
  [],
  { type: "nope" },
  { type: "subscribe" },
  { type: "offer", sessionId: 7, sdp: "x" },
  { type: "ping", sessionId: "x", time: -1 },
  { type: "__proto__", constructor: { prototype: { polluted: true } } },
  { type: "answer", sessionId: "s", sdp: "x".repeat(70_000) },
];

async function garbage(url: string): Promise<void> {
  const socket = await connect(url, { role: "player" });
  for (let i = 0; i < 30 && socket.connected; i++) socket.emit("message", GARBAGE[i % GARBAGE.length]);
  socket.emit("not-message", { type: "subscribe", streamerId: "g0s0" });
  // Raw engine.io message packets that are not socket.io packets at all.
  const engine = socket.io.engine as unknown as { send?: (data: string) => void } | undefined;
  for (const raw of ["4garbage", '2["message"', "9", '42[{"deep":' + "[".repeat(2000)]) engine?.send?.(raw);
}

async function flood(url: string): Promise<void> {
  const socket = await connect(url, { role: "player" });
  for (let i = 0; i < 400 && socket.connected; i++) socket.emit("message", { type: "listStreamers" });
}

async function spoof(url: string): Promise<void> {
  const player = await connect(url, { role: "player" });
  const streamer = await connect(url, { role: "streamer", streamerId: `hostile${process.pid}` });
  for (const sessionId of plan.sessionIds.slice(0, 15)) {
    player.emit("message", { type: "pong", sessionId, time: 1 });
    player.emit("message", { type: "answer", sessionId, sdp: "v=0\r\n" });
    player.emit("message", { type: "unsubscribe", sessionId });
    player.emit("message", { type: "endSession", sessionId, reason: "media-timeout" });
    streamer.emit("message", { type: "offer", sessionId, sdp: "v=0\r\n" });
    streamer.emit("message", { type: "ping", sessionId, time: 1 });
    streamer.emit("message", { type: "endSession", sessionId, reason: "media-timeout" });
  }
}

/** PUBLISH over a plain socket (RESP), so the forged frames need no Redis client. */
function publish(messages: [string, string][]): Promise<void> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port: plan.redisPort });
    const done = () => {
      socket.destroy();
      resolve();
    };
    socket.setTimeout(2000, done);
    socket.once("error", done);
    socket.once("connect", () => {
      const bulk = (s: string) => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
      socket.end(
        messages
          .map(([channel, message]) => `*3\r\n${bulk("PUBLISH")}${bulk(channel)}${bulk(message)}`)
          .join(""),
      );
    });
    socket.once("close", done);
  });
}

function forgedFrames(): [string, string][] {
  const bus = `${plan.keyPrefix}:bus`;
  const frame = (env: Record<string, unknown>, from: string) =>
    `${"0".repeat(64)}.${JSON.stringify({ from, inc: Date.now(), seq: 1, ts: Date.now(), env })}`;
  const frames: [string, string][] = [
    [bus, "\xc1x"],
    [bus, "not.a.frame"],
    [bus, frame({ type: "bye" }, "a")],
    [`${bus}:b`, frame({ type: "lost" }, "a")],
    [`${bus}:a`, frame({ type: "bye" }, "b")],
    // The socket.io adapter's channels, which no hub listens to any more.
    [`${plan.keyPrefix}#/#`, "\xc1x"],
  ];
  for (const sessionId of plan.sessionIds.slice(0, 10)) {
    frames.push([`${bus}:a`, frame({ type: "close", sessionId, reason: "kicked" }, "b")]);
    frames.push([`${bus}:b`, frame({ type: "close", sessionId, reason: "kicked" }, "a")]);
  }
  return frames;
}

const deadline = setTimeout(() => process.exit(0), plan.durationMs + 1000);
await Promise.allSettled([
  ...plan.hubs.flatMap((url) => [garbage(url), flood(url), spoof(url)]),
  publish(forgedFrames()),
]);
await new Promise((resolve) => setTimeout(resolve, plan.durationMs));
for (const socket of sockets) socket.disconnect();
clearTimeout(deadline);
process.exit(0);
