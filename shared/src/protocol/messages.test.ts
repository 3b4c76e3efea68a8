import { describe, expect, it } from "vitest";
import {
  HubToPlayerMessageSchema,
  HubToStreamerMessageSchema,
  PlayerToHubMessageSchema,
  StreamerToHubMessageSchema,
  parsePlayerMessage,
  parseStreamerMessage,
  SESSION_CLOSE_REASONS,
  MediaPingSchema,
  MediaPongSchema,
  MEDIA_HEARTBEAT_CHANNEL,
  HandshakeAuthSchema,
} from "./index.js";

const sessionId = "4b0d3c9e-1f7a-4a51-9a3e-0c7f2f3e9d11";
const candidate = {
  candidate: "candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host",
  sdpMid: "0",
  sdpMLineIndex: 0,
};

describe("streamer -> hub messages", () => {
  it.each([
    { type: "offer", sessionId, sdp: "v=0\r\n" },
    { type: "iceCandidate", sessionId, candidate },
    { type: "iceCandidate", sessionId, candidate: { candidate: "", sdpMid: null, sdpMLineIndex: null } },
    { type: "ping", sessionId, time: 0 },
    { type: "ping", sessionId, time: 123456.789 },
  ])("accepts $type", (message) => {
    expect(parseStreamerMessage(message)).toEqual({ ok: true, message });
  });

  it.each([
    [null, "invalid-message"],
    ["ping", "invalid-message"],
    [{ type: "ping", sessionId }, "invalid-message"],
    [{ type: "ping", sessionId, time: "now" }, "invalid-message"],
    [{ type: "ping", sessionId, time: -1 }, "invalid-message"],
    [{ type: "ping", sessionId, time: Number.POSITIVE_INFINITY }, "invalid-message"],
    [{ type: "ping", sessionId: "", time: 1 }, "invalid-message"],
    [{ type: "offer", sessionId, sdp: "x".repeat(60_001) }, "invalid-message"],
    [{ type: "offer", sessionId, sdp: 5 }, "invalid-message"],
    [{ type: "iceCandidate", sessionId, candidate: "candidate:1" }, "invalid-message"],
    [{ type: "iceCandidate", sessionId }, "invalid-message"],
    [{ type: "bogus" }, "invalid-message"],
    [{ type: "answer", sessionId, sdp: "v=0" }, "not-allowed"],
    [{ type: "pong", sessionId, time: 1 }, "not-allowed"],
    [{ type: "subscribe", streamerId: "cam1" }, "not-allowed"],
  ])("refuses %j with %s", (message, code) => {
    const result = parseStreamerMessage(message);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.code).toBe(code);
      expect(result.reason.length).toBeGreaterThan(0);
    }
  });

  it("names the bad field without echoing its value", () => {
    const result = parseStreamerMessage({ type: "ping", sessionId, time: "secret-value" });
    expect(result).toMatchObject({ ok: false, reason: expect.stringMatching(/^time: /) as unknown });
    if (!result.ok) expect(result.reason).not.toContain("secret-value");
  });

  it("strips unknown fields so newer peers stay compatible", () => {
    expect(parseStreamerMessage({ type: "ping", sessionId, time: 1, extra: "x" })).toEqual({
      ok: true,
      message: { type: "ping", sessionId, time: 1 },
    });
  });
});

describe("heartbeat payloads", () => {
  it("ping may carry the streamer's RTTs and send stats; pong the player's receive stats", () => {
    const ping = {
      type: "ping",
      sessionId,
      time: 1,
      rttMs: 3.5,
      mediaRttMs: 1.2,
      stats: { fps: 30, bitrateKbps: 900 },
    };
    expect(parseStreamerMessage(ping)).toEqual({ ok: true, message: ping });
    const pong = {
      type: "pong",
      sessionId,
      time: 1,
      stats: { framesDecoded: 300, fps: 29.5, jitterMs: 4, packetsLost: 0 },
    };
    expect(parsePlayerMessage(pong)).toEqual({ ok: true, message: pong });
  });
  it.each([
    { type: "ping", sessionId, time: 1, rttMs: -1 },
    { type: "ping", sessionId, time: 1, stats: { fps: "30", bitrateKbps: 1 } },
    { type: "ping", sessionId, time: 1, stats: { fps: 30 } },
  ])("refuses a ping with bad heartbeat data: %j", (ping) => {
    expect(parseStreamerMessage(ping)).toMatchObject({ ok: false, code: "invalid-message" });
  });
  it("refuses a pong with bad receive stats", () => {
    const pong = {
      type: "pong",
      sessionId,
      time: 1,
      stats: { framesDecoded: 1.5, fps: 1, jitterMs: 0, packetsLost: 0 },
    };
    expect(parsePlayerMessage(pong)).toMatchObject({ ok: false, code: "invalid-message" });
  });
  it("either end may end a session for a dead media path, and for nothing else", () => {
    const end = { type: "endSession", sessionId, reason: "media-timeout" };
    expect(parseStreamerMessage(end)).toEqual({ ok: true, message: end });
    expect(parsePlayerMessage(end)).toEqual({ ok: true, message: end });
    expect(parsePlayerMessage({ ...end, reason: "player-left" })).toMatchObject({ ok: false });
  });
  it("data-channel heartbeat messages have their own schemas", () => {
    expect(MediaPingSchema.safeParse({ type: "ping", time: 5, rttMs: 1, signalingRttMs: 2 }).success).toBe(
      true,
    );
    expect(MediaPongSchema.safeParse({ type: "pong", time: 5 }).success).toBe(true);
    expect(MediaPongSchema.safeParse({ type: "pong" }).success).toBe(false);
    expect(MEDIA_HEARTBEAT_CHANNEL).toBe("heartline");
  });
});

describe("player -> hub messages", () => {
  it.each([
    { type: "listStreamers" },
    { type: "subscribe", streamerId: "cam-1.a_b" },
    { type: "answer", sessionId, sdp: "v=0\r\n" },
    { type: "iceCandidate", sessionId, candidate },
    { type: "pong", sessionId, time: 42 },
    { type: "unsubscribe", sessionId },
  ])("accepts $type", (message) => {
    expect(parsePlayerMessage(message)).toEqual({ ok: true, message });
  });

  it.each([
    [{ type: "subscribe", streamerId: "" }, "invalid-message"],
    [{ type: "subscribe", streamerId: "-starts-with-dash" }, "invalid-message"],
    [{ type: "subscribe", streamerId: "has space" }, "invalid-message"],
    [{ type: "subscribe", streamerId: "a".repeat(65) }, "invalid-message"],
    [{ type: "unsubscribe" }, "invalid-message"],
    [{ type: "offer", sessionId, sdp: "v=0" }, "not-allowed"],
    [{ type: "ping", sessionId, time: 1 }, "not-allowed"],
  ])("refuses %j with %s", (message, code) => {
    expect(parsePlayerMessage(message)).toMatchObject({ ok: false, code });
  });
});

describe("hub -> peer messages", () => {
  const config = {
    type: "config",
    protocolVersion: 1,
    peerId: "p1",
    heartbeat: { intervalMs: 5000, timeoutMs: 15000, staleAfterMs: 7500, resumeGraceMs: 15000 },
    iceServers: [{ urls: "turn:turn.example:3478", username: "u", credential: "c" }],
    resumeToken: "0123456789abcdef0123",
  };
  it("config, sessionClosed and error are valid for both roles", () => {
    for (const schema of [HubToPlayerMessageSchema, HubToStreamerMessageSchema]) {
      expect(schema.safeParse(config).success).toBe(true);
      expect(schema.safeParse({ type: "sessionClosed", sessionId, reason: "player-left" }).success).toBe(
        true,
      );
      expect(
        schema.safeParse({ type: "error", code: "session-not-found", message: "no", sessionId }).success,
      ).toBe(true);
    }
  });
  it("every close reason is a valid sessionClosed reason, and nothing else is", () => {
    for (const reason of SESSION_CLOSE_REASONS) {
      expect(HubToPlayerMessageSchema.safeParse({ type: "sessionClosed", sessionId, reason }).success).toBe(
        true,
      );
    }
    expect(
      HubToPlayerMessageSchema.safeParse({ type: "sessionClosed", sessionId, reason: "bored" }).success,
    ).toBe(false);
  });
  it("keeps each direction to its own types", () => {
    expect(HubToPlayerMessageSchema.safeParse({ type: "playerJoined", sessionId }).success).toBe(false);
    expect(
      HubToStreamerMessageSchema.safeParse({ type: "sessionStarted", sessionId, streamerId: "a" }).success,
    ).toBe(false);
    expect(StreamerToHubMessageSchema.options.map((o) => o.shape.type.value).sort()).toEqual([
      "bye",
      "endSession",
      "iceCandidate",
      "mediaReport",
      "offer",
      "ping",
      "probeAck",
    ]);
    expect(PlayerToHubMessageSchema.options.map((o) => o.shape.type.value).sort()).toEqual([
      "answer",
      "bye",
      "endSession",
      "iceCandidate",
      "listStreamers",
      "mediaReport",
      "pong",
      "probeAck",
      "subscribe",
      "unsubscribe",
    ]);
  });
  it("takes only the features it knows from the handshake, and refuses a malformed list", () => {
    expect(
      HandshakeAuthSchema.parse({ role: "player", features: ["mediaCheck", "teleport", "probe"] }),
    ).toEqual({ role: "player", features: ["probe", "mediaCheck"] });
    expect(HandshakeAuthSchema.safeParse({ role: "player", features: "probe" }).success).toBe(false);
    expect(
      HandshakeAuthSchema.safeParse({ role: "player", features: Array<string>(17).fill("probe") }).success,
    ).toBe(false);
  });
  it("resumed and sessionState reach both roles", () => {
    for (const schema of [HubToPlayerMessageSchema, HubToStreamerMessageSchema]) {
      expect(schema.safeParse({ type: "resumed", sessionIds: [sessionId] }).success).toBe(true);
      expect(
        schema.safeParse({ type: "sessionState", sessionId, state: "stale", late: "player" }).success,
      ).toBe(true);
      expect(schema.safeParse({ type: "sessionState", sessionId, state: "live" }).success).toBe(true);
      expect(schema.safeParse({ type: "sessionState", sessionId, state: "dead" }).success).toBe(false);
      expect(schema.safeParse({ type: "sessionState", sessionId, state: "stale", late: "hub" }).success).toBe(
        false,
      );
    }
  });
  it("config without a resume token is refused", () => {
    const { resumeToken: _token, ...withoutToken } = config;
    expect(HubToStreamerMessageSchema.safeParse(withoutToken).success).toBe(false);
  });
});

describe("handshake auth", () => {
  it("accepts an optional resume token of a sane length", () => {
    expect(HandshakeAuthSchema.safeParse({ role: "player", resumeToken: "a".repeat(32) }).success).toBe(true);
    expect(HandshakeAuthSchema.safeParse({ role: "streamer", streamerId: "cam1" }).success).toBe(true);
    expect(HandshakeAuthSchema.safeParse({ role: "player", resumeToken: "short" }).success).toBe(false);
    expect(HandshakeAuthSchema.safeParse({ role: "player", resumeToken: "a".repeat(500) }).success).toBe(
      false,
    );
  });
});
