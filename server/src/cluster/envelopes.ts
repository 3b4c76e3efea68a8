/**
 * What hub nodes say to each other through Redis (ClusterBus: signed frames on the cluster's own
 * pub/sub channels), validated on receipt like everything else that crosses a process boundary.
 * Peers never see these: a peer's messages travel inside `relay` and are validated again with
 * the shared protocol schema by the node that delivers them.
 *
 * Every envelope names its sender (`from`). Those addressed to one node name it in `to`; every
 * other node ignores them. `beat`, `bye` and `streamers` go to every node.
 */
import { z } from "zod";
import {
  ErrorCodeSchema,
  SessionCloseReasonSchema,
  SessionIdSchema,
  StreamerIdSchema,
} from "@heartline/shared";

export const NodeIdSchema = z.string().regex(/^[A-Za-z0-9_.-]{1,80}$/);

const ToNode = { from: NodeIdSchema, to: NodeIdSchema };

export const EnvelopeSchema = z.discriminatedUnion("kind", [
  /**
   * The sender is alive; `streamers` counts changes to its streamer list (re-read it when it
   * moves); `timeoutMs` is its heartbeat timeout: it beats at least twice within it, so no node
   * declares it lost sooner, even while the nodes' configs differ (a reload reaching one first).
   */
  z.strictObject({
    kind: z.literal("beat"),
    from: NodeIdSchema,
    streamers: z.number().int().min(0),
    timeoutMs: z.number().int().min(1).max(3_600_000),
  }),
  /** The sender is shutting down: forget it now instead of waiting for its beats to lapse. */
  z.strictObject({ kind: z.literal("bye"), from: NodeIdSchema }),
  /**
   * The sender's streamer list changed (same counter as in `beat`). It carries the sender's
   * heartbeat timeout too: it may be the first envelope another node hears from it.
   */
  z.strictObject({
    kind: z.literal("streamers"),
    from: NodeIdSchema,
    streamers: z.number().int().min(0),
    timeoutMs: z.number().int().min(1).max(3_600_000).optional(),
  }),
  /**
   * The sender ended, as `hub-link-lost`, every session it shared with `to` (it declared `to`
   * lost, or heard it again after that): `to` ends its halves too, telling the sender of each.
   */
  z.strictObject({ kind: z.literal("lost"), ...ToNode }),
  /** A player on the sender asks to watch a streamer on `to`. */
  z.strictObject({
    kind: z.literal("open"),
    ...ToNode,
    sessionId: SessionIdSchema,
    streamerId: StreamerIdSchema,
    playerId: z.string().min(1).max(64),
    /** The wire protocol of the player (absent: heartline's own); the streamer must speak it. */
    protocol: z.enum(["heartline", "pixelstreaming"]).optional(),
  }),
  /** The streamer's node accepted `open`; relays for the session may follow. */
  z.strictObject({ kind: z.literal("opened"), ...ToNode, sessionId: SessionIdSchema }),
  /** The streamer's node refused `open` with the code the player gets. */
  z.strictObject({
    kind: z.literal("refused"),
    ...ToNode,
    sessionId: SessionIdSchema,
    code: ErrorCodeSchema,
    message: z.string().max(500),
  }),
  /**
   * A streamer reconnected to the sender with the resume token of a streamer held by `to` (a
   * load balancer sent it elsewhere): `to` lets it go if the token matches. Only the token's
   * SHA-256 travels.
   */
  z.strictObject({
    kind: z.literal("release"),
    ...ToNode,
    streamerId: StreamerIdSchema,
    tokenHash: z.string().regex(/^[0-9a-f]{64}$/),
  }),
  /** The answer to `release`: the claim on the id is gone (`released`), or the token did not match. */
  z.strictObject({
    kind: z.literal("released"),
    ...ToNode,
    streamerId: StreamerIdSchema,
    released: z.boolean(),
  }),
  /** A peer's message for the other end of a session (validated again on delivery). */
  z.strictObject({ kind: z.literal("relay"), ...ToNode, sessionId: SessionIdSchema, message: z.unknown() }),
  /** The sender's end of the session is late (away or missed a beat), or on time again. */
  z.strictObject({ kind: z.literal("late"), ...ToNode, sessionId: SessionIdSchema, late: z.boolean() }),
  /** The sender ended the session; the receiver ends its half with the same reason. */
  z.strictObject({
    kind: z.literal("close"),
    ...ToNode,
    sessionId: SessionIdSchema,
    reason: SessionCloseReasonSchema,
  }),
]);

export type Envelope = z.infer<typeof EnvelopeSchema>;
export type EnvelopeKind = Envelope["kind"];
/** An envelope for one node, without the sender (filled in by the cluster). */
export type DirectEnvelope = Extract<Envelope, { to: string }>;
/** An envelope for every node, without the sender. */
export type BroadcastEnvelope =
  Exclude<Envelope, { to: string }> extends infer E ? (E extends Envelope ? Omit<E, "from"> : never) : never;
export type OutgoingEnvelope = DirectEnvelope extends infer E
  ? E extends DirectEnvelope
    ? Omit<E, "from">
    : never
  : never;
