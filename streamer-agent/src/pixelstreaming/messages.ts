/**
 * Epic's Pixel Streaming signalling as a streamer sees it (protocol 1.3.0; Epic's
 * `Common/protobuf/signalling_messages.proto`). One JSON object per WebSocket text frame,
 * dispatched on `type`.
 *
 * Inbound schemas are loose: they check only what the agent reads, keep every other field, and a
 * type the agent does not know is ignored (as by every Epic component). Outbound messages are
 * built below with exactly the proto's fields: Epic's tools reject unknown fields.
 */
import { z } from "zod";
import { PS_PROTOCOL_VERSION } from "@heartline/shared/pixelstreaming";

// The version Unreal's PS2 plugin announces (the hub's too); nobody negotiates it.
export { PS_PROTOCOL_VERSION };

/** Player ids are the signalling server's strings ("Player0" from Wilbur, opaque from heartline). */
const PlayerIdSchema = z.string().min(1).max(256);

const IceServerSchema = z.looseObject({
  // Unreal accepts a string or an array; so does werift.
  urls: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  username: z.string().optional(),
  credential: z.string().optional(),
});

export const PsInboundSchema = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("identify") }),
  z.looseObject({
    type: z.literal("config"),
    // The RTCConfiguration for peer connections; only its ICE servers matter to the agent.
    peerConnectionOptions: z.looseObject({ iceServers: z.array(IceServerSchema).optional() }).optional(),
    protocolVersion: z.string().optional(),
  }),
  z.looseObject({ type: z.literal("endpointIdConfirm"), committedId: z.string() }),
  z.looseObject({ type: z.literal("playerConnected"), playerId: PlayerIdSchema }),
  z.looseObject({ type: z.literal("playerDisconnected"), playerId: PlayerIdSchema }),
  z.looseObject({ type: z.literal("answer"), playerId: PlayerIdSchema, sdp: z.string().min(1) }),
  z.looseObject({
    type: z.literal("iceCandidate"),
    playerId: PlayerIdSchema,
    candidate: z.looseObject({
      candidate: z.string(),
      sdpMid: z.string().nullable().optional(),
      sdpMLineIndex: z.number().int().min(0).nullable().optional(),
      usernameFragment: z.string().nullable().optional(),
    }),
  }),
  z.looseObject({ type: z.literal("ping"), time: z.number().optional() }),
  z.looseObject({ type: z.literal("pong"), time: z.number().optional() }),
]);

export type PsInbound = z.infer<typeof PsInboundSchema>;
export type PsInboundType = PsInbound["type"];
export type PsIceServer = z.infer<typeof IceServerSchema>;

const KNOWN_TYPES: ReadonlySet<string> = new Set(
  PsInboundSchema.options.map((option) => option.shape.type.value),
);

/** The outcome of reading one frame: a message, a type the agent ignores, or a broken known message. */
export type PsParsed =
  | { kind: "message"; message: PsInbound }
  | { kind: "unknown"; type: string | undefined }
  | { kind: "invalid"; type: string; problem: string };

export function parsePsFrame(text: string): PsParsed {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { kind: "unknown", type: undefined };
  }
  const type = typeof raw === "object" && raw !== null ? (raw as { type?: unknown }).type : undefined;
  if (typeof type !== "string" || !KNOWN_TYPES.has(type)) {
    return { kind: "unknown", type: typeof type === "string" ? type : undefined };
  }
  const result = PsInboundSchema.safeParse(raw);
  if (!result.success) return { kind: "invalid", type, problem: z.prettifyError(result.error) };
  return { kind: "message", message: result.data };
}

/** The ICE candidate as Epic's frontend and Unreal send it (all four keys). */
export interface PsCandidate {
  candidate: string;
  sdpMid: string;
  sdpMLineIndex: number;
  usernameFragment: string;
}

/** What the agent sends, with exactly the proto's fields. */
export const psOut = {
  endpointId: (id: string) => ({ type: "endpointId", id, protocolVersion: PS_PROTOCOL_VERSION }),
  offer: (playerId: string, sdp: string) => ({ type: "offer", sdp, playerId }),
  iceCandidate: (playerId: string, candidate: PsCandidate) => ({ type: "iceCandidate", candidate, playerId }),
  ping: (unixSeconds: number) => ({ type: "ping", time: unixSeconds }),
  pong: (time: number) => ({ type: "pong", time }),
} satisfies Record<string, (...args: never[]) => { type: string }>;

export type PsOutbound = ReturnType<(typeof psOut)[keyof typeof psOut]>;
