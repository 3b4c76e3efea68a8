/**
 * The hubs' own channel through Redis pub/sub: the only way anything from Redis reaches this
 * node's handlers (socket.io runs its default in-memory adapter; no socket.io traffic crosses
 * Redis, so nothing published there can reach a socket).
 *
 * Redis is not trusted with the cluster's integrity. Every frame is signed, and checked in this
 * order before its envelope is validated (envelopes.ts) and handed on:
 *
 *   <hex HMAC-SHA256 of the rest, keyed with cluster.secret>.<JSON {from, inc, seq, ts, env}>
 *
 * - the HMAC proves the sender holds the cluster secret (Redis and its other clients do not);
 * - `inc` (the sender's incarnation: its start time in ms) and `seq` (a counter per incarnation)
 *   reject a replayed frame: per sender, only a newer incarnation, or a higher `seq` in the same
 *   one, is accepted;
 * - `ts` (the sender's clock when it sent) rejects a frame captured long ago and replayed to a
 *   node that never heard its sender (`MAX_SKEW_MS`, generous: the nodes' clocks need only agree
 *   to within minutes);
 * - `env.to`, when present, must be this node (the HMAC covers it, so a frame cannot be
 *   redirected).
 *
 * Whatever fails is counted by reason (`rejected`), logged at most once a second per reason,
 * and dropped; nothing here throws into ioredis.
 *
 * Channels: `<prefix>:bus` (every node) and `<prefix>:bus:<nodeId>` (this node only), so a node
 * does not even receive what is addressed to the others.
 */
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from "node:crypto";
import type { Logger } from "pino";
import { EnvelopeSchema, NodeIdSchema, type Envelope } from "./envelopes.js";
import type { RedisLink } from "./RedisLink.js";

/** Why a frame from Redis was dropped (the label of heartline_cluster_rejected_total). */
export const REJECT_REASONS = [
  /** Not a frame at all: garbage, a foreign publisher, a bug. */
  "malformed",
  /** The HMAC does not match: not signed with this cluster's secret. */
  "signature",
  /** An incarnation and sequence number already seen (or older): a replay. */
  "replay",
  /** Sent more than MAX_SKEW_MS from this node's clock: a replay, or clocks far apart. */
  "clock",
  /** Signed, but its envelope fails the schema (a node of another version, or a bug). */
  "invalid",
  /** Signed for another node. */
  "misrouted",
  /** A value read from the Redis registry that fails validation. */
  "registry",
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** How far a frame's send time may be from this node's clock. */
export const MAX_SKEW_MS = 5 * 60_000;
/** Senders whose last incarnation and sequence number are remembered (oldest forgotten first). */
const MAX_KNOWN_SENDERS = 1024;
/** Longest frame accepted (a relay carries an SDP of up to limits.maxMessageBytes, as JSON). */
const MAX_FRAME_CHARS = 4 * 1024 * 1024;
const MAC_HEX = 64;

/** What a signed frame carries around its envelope. */
export interface FrameHeader {
  from: string;
  inc: number;
  seq: number;
  ts: number;
}

/** Signs `env` as a frame (also used by tests that play a node, or a forger, on a raw client). */
export function encodeFrame(secret: string | KeyObject, header: FrameHeader, env: unknown): string {
  const body = JSON.stringify({ from: header.from, inc: header.inc, seq: header.seq, ts: header.ts, env });
  return `${createHmac("sha256", secret).update(body).digest("hex")}.${body}`;
}

export type FrameCheck =
  { ok: true; header: FrameHeader; envelope: Envelope } | { ok: false; reason: RejectReason; detail: string };

/** Checks a frame's form and signature and validates its envelope; no replay check (stateless). */
export function decodeFrame(secret: string | KeyObject, frame: string): FrameCheck {
  if (frame.length > MAX_FRAME_CHARS || frame.length < MAC_HEX + 3 || frame[MAC_HEX] !== ".") {
    return { ok: false, reason: "malformed", detail: "not a signed frame" };
  }
  const body = frame.slice(MAC_HEX + 1);
  const presented = Buffer.from(frame.slice(0, MAC_HEX), "hex");
  const expected = createHmac("sha256", secret).update(body).digest();
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
    return { ok: false, reason: "signature", detail: "HMAC does not match this cluster's secret" };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { ok: false, reason: "invalid", detail: "signed frame is not JSON" };
  }
  if (typeof parsed !== "object" || parsed === null) {
    return { ok: false, reason: "invalid", detail: "signed frame is not an object" };
  }
  const { from, inc, seq, ts, env } = parsed as Record<string, unknown>;
  if (
    !NodeIdSchema.safeParse(from).success ||
    !Number.isSafeInteger(inc) ||
    !Number.isSafeInteger(seq) ||
    !Number.isSafeInteger(ts)
  ) {
    return { ok: false, reason: "invalid", detail: "signed frame lacks from, inc, seq or ts" };
  }
  const envelope = EnvelopeSchema.safeParse(env);
  if (!envelope.success) {
    const issue = envelope.error.issues[0];
    return {
      ok: false,
      reason: "invalid",
      detail: `envelope: ${issue ? `${issue.path.join(".")}: ${issue.message}` : "invalid"}`,
    };
  }
  if (envelope.data.from !== from) {
    return { ok: false, reason: "invalid", detail: "envelope names another sender than its frame" };
  }
  return {
    ok: true,
    header: { from: from, inc: inc as number, seq: seq as number, ts: ts as number },
    envelope: envelope.data,
  };
}

export interface ClusterBusOptions {
  link: RedisLink;
  prefix: string;
  nodeId: string;
  secret: string;
  logger: Logger;
  /** Wall clock (epoch ms), for `ts`; default Date.now. */
  now?: () => number;
}

export class ClusterBus {
  readonly #link: RedisLink;
  /** The secret as a key object: HMAC setup per frame is cheaper than from a string. */
  readonly #secret: KeyObject;
  readonly #nodeId: string;
  readonly #all: string;
  readonly #self: string;
  readonly #log: Logger;
  readonly #now: () => number;
  /** This node's incarnation: its start time, so a restart is always newer. */
  readonly #inc: number;
  #seq = 0;
  /** Per sender: the newest incarnation and sequence number accepted. */
  readonly #seen = new Map<string, { inc: number; seq: number }>();
  readonly #rejected = new Map<RejectReason, number>();
  readonly #loggedAt = new Map<RejectReason, number>();
  #receiver: ((envelope: Envelope, incarnation: number) => void) | undefined;

  constructor(options: ClusterBusOptions) {
    this.#link = options.link;
    this.#secret = createSecretKey(Buffer.from(options.secret, "utf8"));
    this.#nodeId = options.nodeId;
    this.#all = `${options.prefix}:bus`;
    this.#self = `${options.prefix}:bus:${options.nodeId}`;
    this.#log = options.logger;
    this.#now = options.now ?? Date.now;
    this.#inc = this.#now();
    options.link.subscriber.on("message", (channel: string, message: string) => {
      if (channel === this.#all || channel === this.#self) this.#receive(message);
    });
    // Waits while Redis is down; ioredis subscribes again after every reconnect.
    void options.link.subscriber.subscribe(this.#all, this.#self);
  }

  /** Hands every accepted envelope (and its sender's incarnation) to `receiver`. */
  onEnvelope(receiver: (envelope: Envelope, incarnation: number) => void): void {
    this.#receiver = receiver;
  }

  /** Publishes to one node (`to`) or, without it, to every node; never rejects. */
  publish(envelope: Envelope): void {
    const to = "to" in envelope ? envelope.to : undefined;
    const frame = encodeFrame(
      this.#secret,
      { from: this.#nodeId, inc: this.#inc, seq: ++this.#seq, ts: this.#now() },
      envelope,
    );
    void this.#link.publisher.publish(to === undefined ? this.#all : `${this.#all}:${to}`, frame);
  }

  /** Senders whose incarnation and sequence number are remembered (bounded). */
  get knownSenders(): number {
    return this.#seen.size;
  }

  /** Frames and registry values dropped so far, by reason. */
  get rejected(): ReadonlyMap<RejectReason, number> {
    return this.#rejected;
  }

  /** Counts and (at most once a second per reason) logs something from Redis that was dropped. */
  reject(reason: RejectReason, detail: string, context: Record<string, unknown> = {}): void {
    this.#rejected.set(reason, (this.#rejected.get(reason) ?? 0) + 1);
    const now = Date.now();
    if (now - (this.#loggedAt.get(reason) ?? 0) < 1000) return;
    this.#loggedAt.set(reason, now);
    this.#log.warn(
      { reason, detail, ...context, rejectedSoFar: this.#rejected.get(reason) },
      "dropped a message from redis that did not pass the cluster's checks",
    );
  }

  #receive(frame: string): void {
    try {
      const checked = decodeFrame(this.#secret, frame);
      if (!checked.ok) {
        this.reject(checked.reason, checked.detail);
        return;
      }
      const { header, envelope } = checked;
      if (header.from === this.#nodeId) return;
      if (Math.abs(this.#now() - header.ts) > MAX_SKEW_MS) {
        this.reject(
          "clock",
          `sent ${String(this.#now() - header.ts)} ms from this node's clock (a replay, or check NTP on both nodes)`,
          { from: header.from },
        );
        return;
      }
      const seen = this.#seen.get(header.from);
      if (seen && (header.inc < seen.inc || (header.inc === seen.inc && header.seq <= seen.seq))) {
        this.reject("replay", "incarnation and sequence number already seen", { from: header.from });
        return;
      }
      if ("to" in envelope && envelope.to !== this.#nodeId) {
        this.reject("misrouted", `signed for node ${envelope.to}`, { from: header.from });
        return;
      }
      if (!seen) {
        if (this.#seen.size >= MAX_KNOWN_SENDERS) {
          const oldest = this.#seen.keys().next().value;
          if (oldest !== undefined) this.#seen.delete(oldest);
        }
        this.#seen.set(header.from, { inc: header.inc, seq: header.seq });
      } else {
        seen.inc = header.inc;
        seen.seq = header.seq;
      }
      this.#receiver?.(envelope, header.inc);
    } catch (error) {
      this.#log.error({ err: error }, "cluster envelope handler failed");
    }
  }
}
