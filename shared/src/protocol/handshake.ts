import { z } from "zod";
import { StreamerIdSchema } from "./messages.js";

export const ROLES = ["streamer", "player"] as const;
export type Role = (typeof ROLES)[number];

/** The socket.io handshake `auth` payload: who this socket is. */
/** The `resumeToken` from a previous `config`: resume that identity and its sessions. */
const ResumeTokenSchema = z.string().min(16).max(128).optional();

/**
 * What the peer can do beyond version 1's required messages, so the hub only sends it messages
 * it understands. Unknown names are ignored (a newer peer may know more).
 * - `probe`: answers `probe` with `probeAck`;
 * - `mediaCheck`: answers `mediaCheck` with `mediaReport`.
 */
export const PEER_FEATURES = ["probe", "mediaCheck"] as const;
export type PeerFeature = (typeof PEER_FEATURES)[number];
const FeaturesSchema = z
  .array(z.string().max(32))
  .max(16)
  .transform((names) => PEER_FEATURES.filter((feature) => names.includes(feature)))
  .optional();

export const HandshakeAuthSchema = z.discriminatedUnion("role", [
  z.object({
    role: z.literal("streamer"),
    streamerId: StreamerIdSchema,
    /** One of the hub's streamer keys (not needed when the hub runs open). */
    key: z.string().min(1).max(256).optional(),
    resumeToken: ResumeTokenSchema,
    features: FeaturesSchema,
  }),
  z.object({
    role: z.literal("player"),
    /** A player token (JWT) the operator issued (not needed when the hub runs open). */
    token: z.string().min(1).max(4096).optional(),
    resumeToken: ResumeTokenSchema,
    features: FeaturesSchema,
  }),
]);
export type HandshakeAuth = z.infer<typeof HandshakeAuthSchema>;
