/**
 * Property-based fuzzing of every schema that guards a process boundary: thousands of random and
 * mutated frames. Every valid message is accepted unchanged, every mutated one is refused, and
 * nothing ever throws.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import {
  HandshakeAuthSchema,
  HubToPlayerMessageSchema,
  HubToStreamerMessageSchema,
  MediaPingSchema,
  MediaPongSchema,
  PlayerToHubMessageSchema,
  SESSION_CLOSE_REASONS,
  StreamerToHubMessageSchema,
  ERROR_CODES,
  parsePlayerMessage,
  parseStreamerMessage,
} from "./index.js";

const RUNS = 2000;

// ---- valid values -------------------------------------------------------------------------
const sessionId = fc.string({ minLength: 1, maxLength: 64 });
const streamerId = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/);
const time = fc.double({ min: 0, max: 1e12, noNaN: true, noDefaultInfinity: true });
const rtt = fc.double({ min: 0, max: 60_000, noNaN: true, noDefaultInfinity: true });
const sdp = fc.string({ minLength: 1, maxLength: 2000 });
const candidate = fc.record(
  {
    candidate: fc.string({ maxLength: 300 }),
    sdpMid: fc.option(fc.string({ maxLength: 64 }), { nil: null }),
    sdpMLineIndex: fc.option(fc.integer({ min: 0, max: 1024 }), { nil: null }),
    usernameFragment: fc.option(fc.string({ maxLength: 64 }), { nil: null }),
  },
  { requiredKeys: ["candidate"] },
);
const sendStats = fc.record({
  fps: fc.double({ min: 0, max: 240, noNaN: true }),
  bitrateKbps: fc.nat(100_000),
});
const receiveStats = fc.record({
  framesDecoded: fc.nat(),
  fps: fc.double({ min: 0, max: 240, noNaN: true }),
  jitterMs: fc.double({ min: 0, max: 10_000, noNaN: true }),
  packetsLost: fc.integer({ min: -1000, max: 1_000_000 }),
});
const heartbeat = fc.record({
  intervalMs: fc.integer({ min: 1, max: 60_000 }),
  timeoutMs: fc.integer({ min: 1, max: 6_000_000 }),
  staleAfterMs: fc.integer({ min: 1, max: 90_000 }),
  resumeGraceMs: fc.nat(600_000),
});
const iceServer = fc.record(
  {
    urls: fc.oneof(
      fc.string({ minLength: 1 }),
      fc.array(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 3 }),
    ),
    username: fc.string(),
    credential: fc.string(),
  },
  { requiredKeys: ["urls"] },
);

const ping = fc.record(
  { type: fc.constant("ping"), sessionId, time, rttMs: rtt, mediaRttMs: rtt, stats: sendStats },
  { requiredKeys: ["type", "sessionId", "time"] },
);
const pong = fc.record(
  { type: fc.constant("pong"), sessionId, time, stats: receiveStats },
  { requiredKeys: ["type", "sessionId", "time"] },
);
const offer = fc.record({ type: fc.constant("offer"), sessionId, sdp });
const answer = fc.record({ type: fc.constant("answer"), sessionId, sdp });
const ice = fc.record({ type: fc.constant("iceCandidate"), sessionId, candidate });
const endSession = fc.record({
  type: fc.constant("endSession"),
  sessionId,
  reason: fc.constant("media-timeout"),
});

const streamerToHub = fc.oneof(offer, ice, ping, endSession);
const playerToHub = fc.oneof(
  fc.record({ type: fc.constant("listStreamers") }),
  fc.record({ type: fc.constant("subscribe"), streamerId }),
  fc.record({ type: fc.constant("unsubscribe"), sessionId }),
  answer,
  ice,
  pong,
  endSession,
);
const common = [
  fc.record({
    type: fc.constant("config"),
    protocolVersion: fc.integer({ min: 1, max: 100 }),
    peerId: fc.string(),
    heartbeat,
    iceServers: fc.array(iceServer, { maxLength: 3 }),
    resumeToken: fc.string({ minLength: 16, maxLength: 128 }),
  }),
  fc.record({ type: fc.constant("resumed"), sessionIds: fc.array(sessionId, { maxLength: 5 }) }),
  fc.record(
    {
      type: fc.constant("sessionState"),
      sessionId,
      state: fc.constantFrom("live", "stale"),
      late: fc.constantFrom("streamer", "player"),
    },
    { requiredKeys: ["type", "sessionId", "state"] },
  ),
  fc.record({
    type: fc.constant("sessionClosed"),
    sessionId,
    reason: fc.constantFrom(...SESSION_CLOSE_REASONS),
  }),
  fc.record(
    { type: fc.constant("error"), code: fc.constantFrom(...ERROR_CODES), message: fc.string(), sessionId },
    { requiredKeys: ["type", "code", "message"] },
  ),
  ice,
] as const;
const hubToStreamer = fc.oneof(
  ...common,
  fc.record({ type: fc.constant("playerJoined"), sessionId }),
  answer,
  pong,
);
const hubToPlayer = fc.oneof(
  ...common,
  fc.record({
    type: fc.constant("streamerList"),
    streamers: fc.array(fc.record({ streamerId, players: fc.nat() }), { maxLength: 5 }),
  }),
  fc.record({ type: fc.constant("sessionStarted"), sessionId, streamerId }),
  offer,
  ping,
);
const mediaPing = fc.record(
  { type: fc.constant("ping"), time, rttMs: rtt, signalingRttMs: rtt },
  { requiredKeys: ["type", "time"] },
);
const mediaPong = fc.record({ type: fc.constant("pong"), time });
const handshake = fc.oneof(
  fc.record(
    {
      role: fc.constant("streamer"),
      streamerId,
      key: fc.string({ minLength: 1, maxLength: 256 }),
      resumeToken: fc.string({ minLength: 16, maxLength: 128 }),
    },
    { requiredKeys: ["role", "streamerId"] },
  ),
  fc.record(
    {
      role: fc.constant("player"),
      token: fc.string({ minLength: 1, maxLength: 4096 }),
      resumeToken: fc.string({ minLength: 16, maxLength: 128 }),
    },
    { requiredKeys: ["role"] },
  ),
);

// ---- mutations that must be refused ---------------------------------------------------------
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A value of another JSON type than `value` (so no schema field can accept both). */
function wrongTypeFor(value: unknown): Json {
  if (typeof value === "string") return 12345;
  if (typeof value === "number") return "12345";
  if (typeof value === "boolean") return "true";
  if (Array.isArray(value)) return { not: "an array" };
  if (value === null) return { not: "null" };
  return ["not", "an", "object"];
}

/**
 * Changes one field somewhere in the message (picked by `pick`) into a value of the wrong type,
 * or the discriminator into an unknown one.
 */
function mutate(
  message: Record<string, unknown>,
  pick: number,
  discriminator: string,
): Record<string, unknown> {
  const copy = structuredClone(message);
  const paths: (string | number)[][] = [];
  const walk = (node: unknown, path: (string | number)[]): void => {
    if (path.length > 0) paths.push(path);
    if (node !== null && typeof node === "object") {
      for (const [key, child] of Object.entries(node))
        walk(child, [...path, Array.isArray(node) ? Number(key) : key]);
    }
  };
  walk(copy, []);
  const path = paths[pick % paths.length] ?? [discriminator];
  let parent: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  parent[last] = last === discriminator && path.length === 1 ? "no-such-type" : wrongTypeFor(parent[last]);
  return copy;
}

const cases: {
  name: string;
  schema: z.ZodType;
  valid: fc.Arbitrary<Record<string, unknown>>;
  key: string;
}[] = [
  { name: "streamer -> hub", schema: StreamerToHubMessageSchema, valid: streamerToHub, key: "type" },
  { name: "player -> hub", schema: PlayerToHubMessageSchema, valid: playerToHub, key: "type" },
  { name: "hub -> streamer", schema: HubToStreamerMessageSchema, valid: hubToStreamer, key: "type" },
  { name: "hub -> player", schema: HubToPlayerMessageSchema, valid: hubToPlayer, key: "type" },
  { name: "media ping", schema: MediaPingSchema, valid: mediaPing, key: "type" },
  { name: "media pong", schema: MediaPongSchema, valid: mediaPong, key: "type" },
  { name: "handshake auth", schema: HandshakeAuthSchema, valid: handshake, key: "role" },
];

describe.each(cases)("$name schema under fuzzing", ({ schema, valid, key }) => {
  it("accepts every valid message unchanged", () => {
    fc.assert(
      fc.property(valid, (message) => {
        const result = schema.safeParse(message);
        expect(result.success).toBe(true);
        expect(result.data).toEqual(message);
      }),
      { numRuns: RUNS },
    );
  });

  it("refuses every message with one field of the wrong type", () => {
    fc.assert(
      fc.property(valid, fc.nat(), (message, pick) => {
        expect(schema.safeParse(mutate(message, pick, key)).success).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });

  it("refuses every message missing its discriminator", () => {
    fc.assert(
      fc.property(valid, (message) => {
        const { [key]: _dropped, ...rest } = message;
        expect(schema.safeParse(rest).success).toBe(false);
      }),
      { numRuns: RUNS / 4 },
    );
  });

  it("never throws on arbitrary input", () => {
    fc.assert(
      fc.property(
        fc.anything({ withNullPrototype: true, withBigInt: true, withDate: true, withMap: true }),
        (input) => {
          expect(() => schema.safeParse(input)).not.toThrow();
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe("the hub's parsers under fuzzing", () => {
  it("return a result with a code and a reason for any input, and never throw", () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.anything()), (input) => {
        for (const parse of [parseStreamerMessage, parsePlayerMessage]) {
          const result = parse(input);
          if (!result.ok) {
            expect(["invalid-message", "not-allowed"]).toContain(result.code);
            expect(result.reason.length).toBeGreaterThan(0);
          }
        }
      }),
      { numRuns: RUNS },
    );
  });
});
