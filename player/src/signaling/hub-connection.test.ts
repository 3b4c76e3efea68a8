import type { HandshakeAuth, HubToPlayerMessage } from "@heartline/shared";
import { FakeClock } from "@heartline/shared/testing";
import { Backoff } from "@heartline/shared/timing";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { connectToHub, RECONNECT_BACKOFF, type HubConnectionEvents } from "./hub-connection.js";

/** Stands in for a socket.io client socket: the test fires its events by hand. */
class FakeSocket {
  connected = false;
  active = true;
  connects = 0;
  emitted: unknown[] = [];
  readonly handlers = new Map<string, (...args: unknown[]) => void>();
  constructor(
    readonly options: { reconnection: boolean; auth: (cb: (auth: HandshakeAuth) => void) => void },
  ) {}
  on(event: string, handler: (...args: unknown[]) => void): this {
    this.handlers.set(event, handler);
    return this;
  }
  connect(): this {
    this.connects += 1;
    this.active = true;
    return this;
  }
  emit(_event: string, message: unknown): this {
    this.emitted.push(message);
    return this;
  }
  disconnect(): this {
    this.connected = false;
    return this;
  }
  fire(event: string, ...args: unknown[]): void {
    if (event === "connect") this.connected = true;
    if (event === "disconnect") this.connected = false;
    this.handlers.get(event)?.(...args);
  }
  handshake(): HandshakeAuth {
    let sent: HandshakeAuth | undefined;
    this.options.auth((auth) => (sent = auth));
    if (sent === undefined) throw new Error("auth callback not called");
    return sent;
  }
}

let socket: FakeSocket;
vi.mock("socket.io-client", () => ({
  io: (options: FakeSocket["options"]) => (socket = new FakeSocket(options)),
}));

/** The hub's liveness questions this player answers (PlayerSession.handle). */
const FEATURES = ["probe", "mediaCheck"];

describe("connectToHub", () => {
  let clock: FakeClock;
  let calls: string[];
  let resumeToken: string | null;

  const events: HubConnectionEvents = {
    resumeToken: () => resumeToken,
    connected: () => calls.push("connected"),
    disconnected: (reason) => calls.push(`disconnected ${reason}`),
    unreachable: (refusal) => calls.push(`unreachable ${refusal ?? "-"}`),
    refused: (refusal) => calls.push(`refused ${refusal}`),
    message: (message: HubToPlayerMessage) => calls.push(`message ${message.type}`),
    changed: () => calls.push("changed"),
  };
  const connect = (token: string | null = null) =>
    connectToHub(events, { clock, token, backoff: new Backoff({ ...RECONNECT_BACKOFF, jitter: [1, 1] }) });

  beforeEach(() => {
    clock = new FakeClock();
    calls = [];
    resumeToken = null;
    // The connection logs refusals and invalid messages; the assertions say what matters.
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
  });

  it("leaves reconnection to its own schedule, not socket.io's", () => {
    connect();
    expect(socket.options.reconnection).toBe(false);
  });

  it("presents the operator's token and the latest resume token in every handshake", () => {
    connect("jwt-from-the-link");
    expect(socket.handshake()).toEqual({ role: "player", token: "jwt-from-the-link", features: FEATURES });
    resumeToken = "resume-token-0123456789";
    expect(socket.handshake()).toEqual({
      role: "player",
      features: FEATURES,
      token: "jwt-from-the-link",
      resumeToken: "resume-token-0123456789",
    });
  });

  it("sends no token when the link has none", () => {
    connect();
    expect(socket.handshake()).toEqual({ role: "player", features: FEATURES });
  });

  it("retries an unreachable hub with a growing delay it exposes as retryAt, reset once connected", () => {
    const hub = connect();
    socket.fire("connect_error", new Error("websocket error"));
    expect(calls).toEqual(["unreachable -"]);
    expect(hub.retryAt).toBe(1000);
    clock.advance(1000);
    expect(socket.connects).toBe(1);
    expect(hub.retryAt).toBeNull();
    socket.fire("connect_error", new Error("websocket error"));
    expect(hub.retryAt).toBe(clock.now() + 2000);

    socket.fire("connect");
    expect(hub.retryAt).toBeNull();
    socket.fire("disconnect", "transport close");
    expect(hub.retryAt).toBe(clock.now() + 1000);
  });

  it("retries slowly, every 30 s, when the hub refuses the player's token or origin", () => {
    const hub = connect("expired");
    socket.active = false; // socket.io deactivates a socket whose handshake was refused
    socket.fire("connect_error", new Error("unauthorized"));
    expect(calls).toEqual(["refused unauthorized"]);
    expect(hub.retryAt).toBe(30_000);
    clock.advance(29_000);
    expect(socket.connects).toBe(0);
    clock.advance(1000);
    expect(socket.connects).toBe(1);

    socket.active = false;
    socket.fire("connect_error", new Error("origin-not-allowed"));
    expect(calls.at(-1)).toBe("refused origin-not-allowed");
    expect(hub.retryAt).toBe(clock.now() + 30_000);
  });

  it("treats other handshake refusals as unreachable, with the usual backoff", () => {
    const hub = connect();
    socket.active = false;
    socket.fire("connect_error", new Error("too-many-connections"));
    expect(calls).toEqual(["unreachable too-many-connections"]);
    expect(hub.retryAt).toBe(1000);
  });

  it("retryNow() connects at once and drops the scheduled attempt", () => {
    const hub = connect();
    socket.fire("connect_error", new Error("websocket error"));
    hub.retryNow();
    expect(socket.connects).toBe(1);
    expect(hub.retryAt).toBeNull();
    clock.advance(60_000);
    expect(socket.connects).toBe(1);
  });

  it("does not reconnect after a disconnect it asked for", () => {
    const hub = connect();
    socket.fire("connect");
    socket.fire("disconnect", "io client disconnect");
    expect(hub.retryAt).toBeNull();
  });

  it("says goodbye before it closes the socket, so the hub ends the session at once", () => {
    const hub = connect();
    socket.fire("connect");
    hub.close();
    expect(socket.emitted).toEqual([{ type: "bye" }]);
    expect(socket.connected).toBe(false);
  });

  it("drops sends while disconnected and passes only valid hub messages on", () => {
    const hub = connect();
    hub.send({ type: "listStreamers" });
    expect(socket.emitted).toEqual([]);
    socket.fire("connect");
    hub.send({ type: "listStreamers" });
    expect(socket.emitted).toEqual([{ type: "listStreamers" }]);
    socket.fire("message", { type: "streamerList", streamers: [] });
    socket.fire("message", { type: "nonsense" });
    expect(calls.filter((c) => c.startsWith("message"))).toEqual(["message streamerList"]);
  });
});
