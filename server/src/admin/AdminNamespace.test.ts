import { afterEach, describe, expect, it } from "vitest";
import { io, type Socket } from "socket.io-client";
import type { AdminActionResult, DashboardSnapshot } from "@heartline/shared/admin";
import { startHub, type TestHub } from "../testing/harness.js";

const TOKEN = "admin-token-0123456789";
let hub: TestHub | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.disconnect();
  await hub?.close();
  hub = undefined;
});

function dashboard(url: string, token: unknown): Socket {
  const socket = io(`${url}/admin`, {
    transports: ["websocket"],
    auth: { token },
    reconnection: false,
    forceNew: true,
  });
  sockets.push(socket);
  return socket;
}

function refusal(socket: Socket): Promise<{ message: string; data: { code: string; message: string } }> {
  return new Promise((resolve, reject) => {
    socket.on("connect", () => {
      reject(new Error("dashboard connection was accepted"));
    });
    socket.on("connect_error", (error) => {
      resolve(error as unknown as { message: string; data: { code: string; message: string } });
    });
  });
}

/** The next snapshot that satisfies `predicate`. */
function snapshot(
  socket: Socket,
  predicate: (s: DashboardSnapshot) => boolean = () => true,
  timeoutMs = 5000,
): Promise<DashboardSnapshot> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off("snapshot", listener);
      reject(new Error("no matching snapshot"));
    }, timeoutMs);
    const listener = (s: DashboardSnapshot): void => {
      if (!predicate(s)) return;
      clearTimeout(timer);
      socket.off("snapshot", listener);
      resolve(s);
    };
    socket.on("snapshot", listener);
  });
}

describe("the /admin namespace", () => {
  it("refuses every dashboard, saying to set admin.token, when it is unset", async () => {
    hub = await startHub();
    const error = await refusal(dashboard(hub.url, TOKEN));
    expect(error.message).toBe("admin-disabled");
    expect(error.data.message).toContain("admin.token");
  });

  it("refuses a missing or wrong token and logs the attempt", async () => {
    hub = await startHub({ admin: { token: TOKEN } });
    expect((await refusal(dashboard(hub.url, undefined))).message).toBe("unauthorized");
    expect((await refusal(dashboard(hub.url, "wrong-token-0123456789"))).message).toBe("unauthorized");
    expect(hub.logs.filter((l) => l.audit === true && l.msg === "dashboard connection refused")).toHaveLength(
      2,
    );
  });

  it("does not let a peer's socket into the namespace (and the dashboard token is not a peer auth)", async () => {
    hub = await startHub({ admin: { token: TOKEN } });
    expect((await refusal(dashboard(hub.url, { role: "player" }))).message).toBe("unauthorized");
  });

  it("pushes a snapshot on connect and as sessions come and go, with RTT samples and endings", async () => {
    hub = await startHub({ admin: { token: TOKEN } });
    const admin = dashboard(hub.url, TOKEN);
    const first = await snapshot(admin);
    expect(first).toMatchObject({ streamers: [], sessions: [], endings: [] });
    expect(first.heartbeat.intervalMs).toBe(hub.config.heartbeat.intervalMs);

    const { s, p, sessionId } = await hub.session("cam1");
    s.send({ type: "ping", sessionId, time: 1, rttMs: 25 });
    await p.next("ping");
    p.send({ type: "pong", sessionId, time: 1 });
    const live = await snapshot(admin, (x) => x.sessions[0]?.state === "live");
    expect(live.streamers).toEqual([{ streamerId: "cam1", players: 1, away: false, protocol: "heartline" }]);
    expect(live.sessions[0]).toMatchObject({ id: sessionId, streamerId: "cam1", late: null });
    expect(live.sessions[0]?.rtt.rttMs).toEqual([25]);
    expect(live.sessions[0]?.heartbeat.rttMs).toBe(25);

    p.close();
    const ended = await snapshot(admin, (x) => x.endings.length === 1);
    expect(ended.sessions).toEqual([]);
    expect(ended.endings[0]).toMatchObject({ sessionId, streamerId: "cam1", reason: "player-left" });
  });

  it("ends a session as kicked, audit-logged with the dashboard's address", async () => {
    hub = await startHub({ admin: { token: TOKEN } });
    const { s, p, sessionId } = await hub.session("cam1");
    const admin = dashboard(hub.url, TOKEN);
    await snapshot(admin);
    const result = (await admin.emitWithAck("endSession", { sessionId })) as AdminActionResult;
    expect(result).toEqual({ ok: true });
    expect((await p.next("sessionClosed")).reason).toBe("kicked");
    expect((await s.next("sessionClosed")).reason).toBe("kicked");
    const ended = await snapshot(admin, (x) => x.endings.length === 1);
    expect(ended.endings[0]?.reason).toBe("kicked");
    expect(hub.logs.find((l) => l.audit === true && l.action === "end-session")).toMatchObject({
      sessionId,
      actor: { via: "dashboard" },
    });

    expect(await admin.emitWithAck("endSession", { sessionId })).toMatchObject({
      ok: false,
      code: "not-found",
    });
    expect(await admin.emitWithAck("endSession", { nope: 1 })).toMatchObject({
      ok: false,
      code: "invalid-request",
    });
  });

  it("disconnects a streamer: its sessions end as kicked and its socket is closed", async () => {
    hub = await startHub({ admin: { token: TOKEN } });
    const { s, p } = await hub.session("cam1");
    const admin = dashboard(hub.url, TOKEN);
    await snapshot(admin);
    const gone = new Promise<string>((resolve) => s.socket.once("disconnect", resolve));
    expect(await admin.emitWithAck("disconnectStreamer", { streamerId: "cam1" })).toEqual({ ok: true });
    expect((await p.next("sessionClosed")).reason).toBe("kicked");
    expect(await gone).toBe("io server disconnect");
    const after = await snapshot(admin, (x) => x.streamers.length === 0);
    expect(after.endings[0]?.reason).toBe("kicked");
  });

  it("drops connected dashboards when a live reload changes the token", async () => {
    hub = await startHub({ admin: { token: TOKEN } });
    const admin = dashboard(hub.url, TOKEN);
    await snapshot(admin);
    const next = structuredClone(hub.config);
    next.admin.token = "another-admin-token-42";
    hub.hub.reconfigure(next);
    const reason = await new Promise<string>((resolve) => admin.once("disconnect", resolve));
    expect(reason).toBe("io server disconnect");
  });
});

describe("a dashboard that stops reading", () => {
  it("is disconnected once its outbound buffer passes limits.maxBufferedBytes", async () => {
    const { default: WebSocket } = await import("ws");
    hub = await startHub({
      admin: { token: TOKEN },
      limits: {
        maxBufferedBytes: 64 * 1024,
        subscriptionsPerPlayer: 1000,
        messageBurst: 5000,
        messagesPerSecond: 5000,
      },
      maxPlayers: 1000,
    });
    const h = hub;
    const ws = new WebSocket(`${h.url.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`);
    const connected = new Promise<void>((resolve) => {
      ws.on("message", (data: Buffer) => {
        const frame = data.toString();
        if (frame.startsWith("0")) ws.send(`40/admin,${JSON.stringify({ token: TOKEN })}`);
        if (frame.startsWith("40/admin")) resolve();
      });
    });
    await connected;
    // Stop reading: the kernel's buffers fill, then the hub's.
    (ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const streamer = await h.streamer("cam1");
    const player = await h.player();
    for (let i = 0; i < 60; i += 1) player.send({ type: "subscribe", streamerId: "cam1" });
    for (let i = 0; i < 60; i += 1) await player.next("sessionStarted");
    // Every ending makes a snapshot of some 60 sessions and the endings so far.
    const warned = () =>
      h.logs.some(
        (l) => l.msg === "disconnecting a stalled dashboard (outbound buffer over limits.maxBufferedBytes)",
      );
    for (let round = 0; round < 400 && !warned(); round += 1) {
      player.send({ type: "subscribe", streamerId: "cam1" });
      const { sessionId } = await player.next("sessionStarted");
      player.send({ type: "unsubscribe", sessionId });
      await player.next("sessionClosed");
    }
    expect(warned()).toBe(true);
    expect(h.hub.io.of("/admin").sockets.size).toBe(0);
    ws.terminate();
    streamer.close();
  }, 60_000);
});
