import type { z } from "zod";
import { ErrorCode } from "./errors.js";
import {
  PlayerToHubMessageSchema,
  StreamerToHubMessageSchema,
  type PlayerToHubMessage,
  type StreamerToHubMessage,
} from "./messages.js";
import type { Role } from "./handshake.js";

export type ParseResult<T> =
  | { ok: true; message: T }
  | { ok: false; code: typeof ErrorCode.InvalidMessage | typeof ErrorCode.NotAllowed; reason: string };

const STREAMER_TYPES = new Set<string>(StreamerToHubMessageSchema.options.map((o) => o.shape.type.value));
const PLAYER_TYPES = new Set<string>(PlayerToHubMessageSchema.options.map((o) => o.shape.type.value));

/** Types only the other role may send: such a message is `not-allowed` rather than invalid. */
const OTHER_ROLE_TYPES: Record<Role, ReadonlySet<string>> = {
  streamer: new Set([...PLAYER_TYPES].filter((t) => !STREAMER_TYPES.has(t))),
  player: new Set([...STREAMER_TYPES].filter((t) => !PLAYER_TYPES.has(t))),
};

/** One line naming the first problem, without echoing the offending value back. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid message";
  const path = issue.path.length > 0 ? issue.path.join(".") : "message";
  return `${path}: ${issue.message}`;
}

function parseFor<T>(role: Role, schema: z.ZodType<T>, raw: unknown): ParseResult<T> {
  const result = schema.safeParse(raw);
  if (result.success) return { ok: true, message: result.data };
  const type = typeof raw === "object" && raw !== null ? (raw as { type?: unknown }).type : undefined;
  if (typeof type === "string" && OTHER_ROLE_TYPES[role].has(type)) {
    return { ok: false, code: ErrorCode.NotAllowed, reason: `a ${role} may not send '${type}'` };
  }
  return { ok: false, code: ErrorCode.InvalidMessage, reason: describeIssue(result.error) };
}

/** Validates what a streamer sent to the hub. */
export function parseStreamerMessage(raw: unknown): ParseResult<StreamerToHubMessage> {
  return parseFor("streamer", StreamerToHubMessageSchema, raw);
}

/** Validates what a player sent to the hub. */
export function parsePlayerMessage(raw: unknown): ParseResult<PlayerToHubMessage> {
  return parseFor("player", PlayerToHubMessageSchema, raw);
}
