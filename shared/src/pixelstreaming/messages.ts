/**
 * Epic's Pixel Streaming signalling protocol (version 1.3, as Unreal's plugin, Epic's frontend
 * and Epic's Wilbur speak it; docs/pixel-streaming.md). Plain WebSocket, one JSON object per
 * text frame, dispatched on `type`.
 *
 * Unlike heartline's own protocol these schemas are **loose**: a relayed message must reach the
 * other end verbatim (an SFU needs `sfu`, `multiplex` and `scalabilityMode`, Unreal reads
 * `minBitrateBps`), so unknown fields are kept, and only what the hub reads or routes on is
 * checked. What the hub originates is built by the functions at the bottom, with exactly the
 * fields of Epic's proto (Epic's protocol harness rejects a message with an extra field).
 */
import { z } from "zod";
import { SessionIdSchema } from "../protocol/messages.js";

/** The version the hub announces in `config`. Nobody negotiates it (Epic's clients ignore it). */
export const PS_PROTOCOL_VERSION = "1.3.0";

/** A Pixel Streaming message as it travels: a `type` and any fields. */
export type PsFrame = { type: string } & Record<string, unknown>;

/** Any JSON number: browsers send epoch ms (past int32), Unreal epoch seconds. Echoed unchanged. */
const PsTimeSchema = z.number();
/** A real SDP is 2-20 KB. */
const PsSdpSchema = z.string().min(1).max(60_000);
/** Player ids are the hub's; a peer only echoes them. */
const PsPlayerIdSchema = z.string().max(128);

const IceCandidateInitSchema = z.looseObject({
  candidate: z.string().max(2048),
  sdpMid: z.string().max(64).nullable().optional(),
  sdpMLineIndex: z.number().int().min(0).max(1024).nullable().optional(),
  usernameFragment: z.string().max(256).nullable().optional(),
});
const LayerShape = { spatialLayer: z.number().int(), temporalLayer: z.number().int() };

/** What a streamer (Unreal, Epic's JSStreamer, heartline's agent) may send. */
export const PsStreamerMessageSchema = z.discriminatedUnion("type", [
  z.looseObject({
    type: z.literal("endpointId"),
    id: z.string().max(256),
    protocolVersion: z.string().max(32).optional(),
  }),
  z.looseObject({ type: z.literal("offer"), sdp: PsSdpSchema, playerId: PsPlayerIdSchema }),
  z.looseObject({ type: z.literal("answer"), sdp: PsSdpSchema, playerId: PsPlayerIdSchema }),
  z.looseObject({
    type: z.literal("iceCandidate"),
    candidate: IceCandidateInitSchema,
    playerId: PsPlayerIdSchema,
  }),
  z.looseObject({
    type: z.literal("disconnectPlayer"),
    playerId: PsPlayerIdSchema,
    reason: z.string().max(1024).optional(),
  }),
  z.looseObject({ type: z.literal("layerPreference"), ...LayerShape, playerId: PsPlayerIdSchema.optional() }),
  z.looseObject({ type: z.literal("ping"), time: PsTimeSchema.optional() }),
  z.looseObject({ type: z.literal("pong"), time: PsTimeSchema.optional() }),
]);

/** What a player (Epic's frontend) may send. */
export const PsPlayerMessageSchema = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("listStreamers") }),
  z.looseObject({ type: z.literal("subscribe"), streamerId: z.string().max(256) }),
  z.looseObject({ type: z.literal("unsubscribe") }),
  z.looseObject({ type: z.literal("offer"), sdp: PsSdpSchema }),
  z.looseObject({ type: z.literal("answer"), sdp: PsSdpSchema }),
  z.looseObject({ type: z.literal("iceCandidate"), candidate: IceCandidateInitSchema }),
  z.looseObject({ type: z.literal("layerPreference"), ...LayerShape }),
  z.looseObject({ type: z.literal("dataChannelRequest") }),
  z.looseObject({ type: z.literal("peerDataChannelsReady") }),
  z.looseObject({ type: z.literal("ping"), time: PsTimeSchema.optional() }),
  z.looseObject({ type: z.literal("pong"), time: PsTimeSchema.optional() }),
]);

const PsIceServerSchema = z.looseObject({
  // Unreal accepts a string or an array; so do browsers and werift.
  urls: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  username: z.string().optional(),
  credential: z.string().optional(),
});

/**
 * What a streamer receives from the signalling server (heartline's, or Epic's Wilbur): what a
 * streamer written against this hub must understand. The hub builds these with `ps` below.
 */
export const PsToStreamerMessageSchema = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("identify") }),
  z.looseObject({
    type: z.literal("config"),
    // The RTCConfiguration for peer connections.
    peerConnectionOptions: z.looseObject({ iceServers: z.array(PsIceServerSchema).optional() }).optional(),
    protocolVersion: z.string().optional(),
  }),
  z.looseObject({ type: z.literal("endpointIdConfirm"), committedId: z.string() }),
  z.looseObject({ type: z.literal("playerConnected"), playerId: PsPlayerIdSchema.min(1) }),
  z.looseObject({ type: z.literal("playerDisconnected"), playerId: PsPlayerIdSchema.min(1) }),
  z.looseObject({ type: z.literal("answer"), sdp: PsSdpSchema, playerId: PsPlayerIdSchema.min(1) }),
  z.looseObject({
    type: z.literal("iceCandidate"),
    candidate: IceCandidateInitSchema,
    playerId: PsPlayerIdSchema.min(1),
  }),
  z.looseObject({ type: z.literal("ping"), time: PsTimeSchema.optional() }),
  z.looseObject({ type: z.literal("pong"), time: PsTimeSchema.optional() }),
]);

export type PsToStreamerMessage = z.infer<typeof PsToStreamerMessageSchema>;
export type PsIceServer = z.infer<typeof PsIceServerSchema>;

export type PsStreamerMessage = z.infer<typeof PsStreamerMessageSchema>;
export type PsPlayerMessage = z.infer<typeof PsPlayerMessageSchema>;

type PsSchema =
  typeof PsStreamerMessageSchema | typeof PsPlayerMessageSchema | typeof PsToStreamerMessageSchema;

/** One frame read against a role's schema: a message, a type to ignore, or a broken known message. */
export type PsParsed<T> =
  | { kind: "message"; message: T }
  | { kind: "unknown"; type: string | undefined }
  | { kind: "invalid"; type: string; problem: string };

const knownTypes = new WeakMap<PsSchema, ReadonlySet<string>>();

/**
 * Reads a decoded frame as one of `schema`'s messages. A type the schema does not have is
 * `unknown` (every Epic component ignores those, silently); a known type with missing or mistyped
 * fields is `invalid`.
 */
export function parsePs<S extends PsSchema>(schema: S, raw: unknown): PsParsed<z.infer<S>> {
  let known = knownTypes.get(schema);
  if (!known) {
    known = new Set<string>(schema.options.map((option) => option.shape.type.value));
    knownTypes.set(schema, known);
  }
  const type = typeof raw === "object" && raw !== null ? (raw as { type?: unknown }).type : undefined;
  if (typeof type !== "string" || !known.has(type)) {
    return { kind: "unknown", type: typeof type === "string" ? type : undefined };
  }
  const result = (schema as z.ZodType).safeParse(raw);
  if (!result.success) return { kind: "invalid", type, problem: z.prettifyError(result.error) };
  return { kind: "message", message: result.data as z.infer<S> };
}

/**
 * The messages the hub relays between the two ends of a session, by the role that sends them.
 * Everything else is answered by the hub or ignored (unknown types are ignored, as by every Epic
 * component). A streamer's relayed messages name the player by `playerId`; a player's get
 * `playerId` set by the hub.
 */
export const PS_RELAYED_TYPES = {
  streamer: ["offer", "answer", "iceCandidate"],
  player: [
    "offer",
    "answer",
    "iceCandidate",
    "layerPreference",
    "dataChannelRequest",
    "peerDataChannelsReady",
  ],
} as const satisfies Record<"streamer" | "player", readonly string[]>;

/** Whether a message of `type`, sent by `role`, is relayed to the other end. */
export function isPsRelayed(role: "streamer" | "player", type: string): boolean {
  return (PS_RELAYED_TYPES[role] as readonly string[]).includes(type);
}

/**
 * A Pixel Streaming message relayed inside the hub (and between hub nodes) to the other end of a
 * session; the receiving end's transport writes `frame` verbatim.
 */
export const PsRelayFrameSchema = z.strictObject({
  type: z.literal("ps"),
  sessionId: SessionIdSchema,
  frame: z.looseObject({ type: z.string().min(1).max(64) }),
});
export type PsRelayFrame = { type: "ps"; sessionId: string; frame: PsFrame };

/** Validates a relayed frame from `role` (on delivery, also when it came from another node). */
export function parsePsRelayed(role: "streamer" | "player", raw: unknown): PsRelayFrame | undefined {
  const outer = PsRelayFrameSchema.safeParse(raw);
  if (!outer.success || !isPsRelayed(role, outer.data.frame.type)) return undefined;
  const schema = role === "streamer" ? PsStreamerMessageSchema : PsPlayerMessageSchema;
  const inner = schema.safeParse(outer.data.frame);
  return inner.success ? { type: "ps", sessionId: outer.data.sessionId, frame: inner.data } : undefined;
}

// ---- what the hub originates: exactly the proto's fields ------------------------------------

export const ps = {
  config: (peerConnectionOptions: Record<string, unknown>) => ({
    type: "config",
    peerConnectionOptions,
    protocolVersion: PS_PROTOCOL_VERSION,
  }),
  identify: () => ({ type: "identify" }),
  endpointIdConfirm: (committedId: string) => ({ type: "endpointIdConfirm", committedId }),
  streamerIdChanged: (newID: string) => ({ type: "streamerIdChanged", newID }),
  streamerList: (ids: string[]) => ({ type: "streamerList", ids }),
  subscribeFailed: (message: string) => ({ type: "subscribeFailed", message }),
  playerConnected: (playerId: string) => ({
    type: "playerConnected",
    dataChannel: true,
    sfu: false,
    playerId,
  }),
  playerDisconnected: (playerId: string) => ({ type: "playerDisconnected", playerId }),
  ping: (time: number) => ({ type: "ping", time }),
  pong: (time: number) => ({ type: "pong", time }),
} satisfies Record<string, (...args: never[]) => PsFrame>;
