/**
 * Epic's Pixel Streaming signalling as a streamer sees it (protocol 1.3.0; Epic's
 * `Common/protobuf/signalling_messages.proto`). One JSON object per WebSocket text frame,
 * dispatched on `type`.
 *
 * Inbound schemas are loose: they check only what the agent reads, keep every other field, and a
 * type the agent does not know is ignored (as by every Epic component). Outbound messages are
 * built below with exactly the proto's fields: Epic's tools reject unknown fields.
 */
import type { z } from "zod";
import {
  PS_PROTOCOL_VERSION,
  PsToStreamerMessageSchema as PsInboundSchema,
  parsePs,
  type PsIceServer,
  type PsParsed as SharedPsParsed,
} from "@heartline/shared/pixelstreaming";

// The version Unreal's PS2 plugin announces (the hub's too); nobody negotiates it. The schema of
// what the agent receives is the shared one: one declaration of the protocol.
export { PS_PROTOCOL_VERSION, PsInboundSchema, type PsIceServer };

export type PsInbound = z.infer<typeof PsInboundSchema>;
export type PsInboundType = PsInbound["type"];

/** The outcome of reading one frame: a message, a type the agent ignores, or a broken known message. */
export type PsParsed = SharedPsParsed<PsInbound>;

export function parsePsFrame(text: string): PsParsed {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { kind: "unknown", type: undefined };
  }
  return parsePs(PsInboundSchema, raw);
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
