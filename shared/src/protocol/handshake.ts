import { z } from "zod";
import { StreamerIdSchema } from "./messages.js";

export const ROLES = ["streamer", "player"] as const;
export type Role = (typeof ROLES)[number];

/** The socket.io handshake `auth` payload: who this socket is. */
export const HandshakeAuthSchema = z.discriminatedUnion("role", [
  z.object({ role: z.literal("streamer"), streamerId: StreamerIdSchema }),
  z.object({ role: z.literal("player") }),
]);
export type HandshakeAuth = z.infer<typeof HandshakeAuthSchema>;
