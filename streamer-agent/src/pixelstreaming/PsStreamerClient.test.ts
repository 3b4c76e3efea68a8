import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { WebSocketServer, type WebSocket } from "ws";
import { PsStreamerClient, redactUrl, type PsStreamerClientHandlers } from "./PsStreamerClient.js";

/** A real WebSocket server on loopback standing in for Wilbur or the hub's /ps/streamer. */
class Server {
  readonly wss: WebSocketServer;
  readonly sockets: WebSocket[] = [];
  readonly received: Record<string, unknown>[] = [];
  readonly authorizations: (string | undefined)[] = [];

  constructor(verify?: (authorization: string | undefined) => boolean) {
    this.wss = new WebSocketServer({
      host: "127.0.0.1",
      port: 0,
      verifyClient: (info, done) => {
        const authorization = info.req.headers.authorization;
        this.authorizations.push(authorization);
        if (verify && !verify(authorization)) done(false, 401, "Unauthorized");
        else done(true);
      },
    });
    this.wss.on("connection", (socket) => {
      this.sockets.push(socket);
      socket.on("message", (data) => {
        this.received.push(
          JSON.parse(Buffer.from(data as Buffer).toString("utf8")) as Record<string, unknown>,
        );
      });
    });
  }

  listening(): Promise<void> {
    return new Promise((resolve) =>
      this.wss.once("listening", () => {
        resolve();
      }),
    );
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}/ps/streamer`;
  }

  get latest(): WebSocket {
    const socket = this.sockets.at(-1);
    if (!socket) throw new Error("no connection yet");
    return socket;
  }

  send(message: object): void {
    this.latest.send(JSON.stringify(message));
  }

  ofType(type: string): Record<string, unknown>[] {
    return this.received.filter((m) => m.type === type);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.terminate();
    await new Promise<void>((resolve) => {
      this.wss.close(() => {
        resolve();
      });
    });
  }
}

const servers: Server[] = [];
const clients: PsStreamerClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  for (const server of servers.splice(0)) await server.close();
});

async function setup(
  options: { key?: string; pingIntervalMs?: number; verify?: (auth: string | undefined) => boolean } = {},
) {
  const server = new Server(options.verify);
  servers.push(server);
  await server.listening();
  const handlers = {
    onMessage: vi.fn<PsStreamerClientHandlers["onMessage"]>(),
    onIdentified: vi.fn<PsStreamerClientHandlers["onIdentified"]>(),
    onDisconnected: vi.fn<PsStreamerClientHandlers["onDisconnected"]>(),
  };
  const client = new PsStreamerClient({
    url: server.url,
    streamerId: "DefaultStreamer",
    key: options.key,
    pingIntervalMs: options.pingIntervalMs ?? 0,
    reconnectMs: 100,
    handlers,
    logger: pino({ level: "silent" }),
    unixSeconds: () => 1_700_000_000,
  });
  clients.push(client);
  return { server, client, handlers };
}

describe("PsStreamerClient (Pixel Streaming signalling, as Unreal's plugin)", () => {
  it("answers identify with endpointId {id, protocolVersion 1.3.0} and reports the committed id", async () => {
    const { server, client, handlers } = await setup({ key: "s3cret" });
    client.start();
    await vi.waitFor(() => {
      expect(server.sockets).toHaveLength(1);
    });
    server.send({ type: "identify" });
    server.send({ type: "config", peerConnectionOptions: {}, protocolVersion: "1.3.0" });
    await vi.waitFor(() => {
      expect(server.ofType("endpointId")).toHaveLength(1);
    });
    expect(server.ofType("endpointId")[0]).toEqual({
      type: "endpointId",
      id: "DefaultStreamer",
      protocolVersion: "1.3.0",
    });
    expect(server.authorizations).toEqual(["Bearer s3cret"]);
    server.send({ type: "endpointIdConfirm", committedId: "DefaultStreamer1" });
    await vi.waitFor(() => {
      expect(handlers.onIdentified).toHaveBeenCalledWith("DefaultStreamer1");
    });
    expect(client.state).toBe("identified");
    expect(client.streamerId).toBe("DefaultStreamer1");
    expect(handlers.onMessage).toHaveBeenCalledWith(expect.objectContaining({ type: "config" }));
  });

  it("accepts config before identify, passes player messages on, and ignores unknown types", async () => {
    const { server, client, handlers } = await setup();
    client.start();
    await vi.waitFor(() => {
      expect(server.sockets).toHaveLength(1);
    });
    server.send({ type: "config", peerConnectionOptions: { iceServers: [{ urls: "stun:127.0.0.1:3478" }] } });
    server.send({ type: "someFutureMessage", x: 1 });
    server.send({ type: "playerConnected", playerId: "Player0", dataChannel: true, sfu: false });
    server.send({ type: "playerConnected" }); // broken: no playerId
    server.send({ type: "identify" });
    await vi.waitFor(() => {
      expect(server.ofType("endpointId")).toHaveLength(1);
    });
    await vi.waitFor(() => {
      expect(handlers.onMessage).toHaveBeenCalledTimes(2);
    });
    expect(handlers.onMessage.mock.calls.map(([m]) => m.type)).toEqual(["config", "playerConnected"]);
    // Nothing but endpointId was answered: no error message type exists in Pixel Streaming.
    expect(server.received.map((m) => m.type)).toEqual(["endpointId"]);
  });

  it("pings {time: unix seconds} on its interval and answers a server ping with pong", async () => {
    const { server, client } = await setup({ pingIntervalMs: 50 });
    client.start();
    await vi.waitFor(() => {
      expect(server.ofType("ping").length).toBeGreaterThanOrEqual(2);
    });
    expect(server.ofType("ping")[0]).toEqual({ type: "ping", time: 1_700_000_000 });
    server.send({ type: "pong", time: 1_700_000_000 });
    await vi.waitFor(() => {
      expect(client.rttMs).toBeTypeOf("number");
    });
    server.send({ type: "ping", time: 42 });
    await vi.waitFor(() => {
      expect(server.ofType("pong")).toEqual([{ type: "pong", time: 42 }]);
    });
  });

  it("reconnects after the socket closes and identifies again", async () => {
    const { server, client, handlers } = await setup();
    client.start();
    await vi.waitFor(() => {
      expect(server.sockets).toHaveLength(1);
    });
    server.send({ type: "identify" });
    await vi.waitFor(() => {
      expect(server.ofType("endpointId")).toHaveLength(1);
    });
    server.latest.close(1011, "server restart");
    await vi.waitFor(() => {
      expect(handlers.onDisconnected).toHaveBeenCalledWith({ code: 1011, reason: "server restart" });
    });
    expect(client.retry?.code).toBe("disconnected");
    await vi.waitFor(() => {
      expect(server.sockets).toHaveLength(2);
    });
    server.send({ type: "identify" });
    await vi.waitFor(() => {
      expect(server.ofType("endpointId")).toHaveLength(2);
    });
  });

  it("keeps retrying a server that refuses the key (401), and never says the key", async () => {
    const { server, client, handlers } = await setup({
      key: "wrong",
      verify: (auth) => auth === "Bearer right",
    });
    client.start();
    await vi.waitFor(() => {
      expect(server.authorizations.length).toBeGreaterThanOrEqual(2);
    });
    expect(client.retry?.code).toBe("refused");
    expect(handlers.onDisconnected).not.toHaveBeenCalled();
    expect(redactUrl("ws://h:1/ps/streamer?key=abc&x=1")).toBe("ws://h:1/ps/streamer?key=%3Chidden%3E&x=1");
  });
});
