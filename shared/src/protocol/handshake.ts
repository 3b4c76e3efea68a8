import { z } from "zod";
import { StreamerIdSchema } from "./messages.js";

export const ROLES = ["streamer", "player"] as const;
export type Role = (typeof ROLES)[number];

/** The socket.io handshake `auth` payload: who this socket is. */
/** The `resumeToken` from a previous `config`: resume that identity and its sessions. */
const ResumeTokenSchema = z.string().min(16).max(128).optional();

export const HandshakeAuthSchema = z.discriminatedUnion("role", [
  z.object({
    role: z.literal("streamer"),
    streamerId: StreamerIdSchema,
    /** One of the hub's streamer keys (not needed when the hub runs open). */
    key: z.string().min(1).max(256).optional(),
    resumeToken: ResumeTokenSchema,
  }),
  z.object({
    role: z.literal("player"),
    /** A player token (JWT) the operator issued (not needed when the hub runs open). */
    token: z.string().min(1).max(4096).optional(),
    resumeToken: ResumeTokenSchema,
  }),
]);
export type HandshakeAuth = z.infer<typeof HandshakeAuthSchema>;
