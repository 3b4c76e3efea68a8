/**
 * One Pixel Streaming WebSocket: JSON text frames out, parsed frames in, the socket's rate
 * bucket and violation count, and a close with a code and reason. Bad input is dropped without
 * an answer (Pixel Streaming has no error message, and Epic's harness fails on unknown types);
 * past `limits.maxViolations` the socket is closed with 1008.
 */
import type { Logger } from "pino";
import type { RawData, WebSocket } from "ws";
import type { HubConfig } from "@heartline/shared/config";
import {
  parsePs,
  type PsFrame,
  type PsPlayerMessageSchema,
  type PsStreamerMessageSchema,
} from "@heartline/shared/pixelstreaming";
import type { z } from "zod";
import type { Clock } from "@heartline/shared/timing";
import { TokenBucket } from "../signaling/TokenBucket.js";
import { PsClose, closeReason } from "./closeCodes.js";

export type PsLimits = Pick<
  HubConfig["limits"],
  "messagesPerSecond" | "messageBurst" | "maxViolations" | "maxBufferedBytes"
>;

/** Why an inbound frame was dropped (counted in metrics). */
export type PsDrop = "not-json" | "invalid" | "rate-limited";

type RoleSchema = typeof PsStreamerMessageSchema | typeof PsPlayerMessageSchema;

export interface PsSocketOptions<S extends RoleSchema> {
  ws: WebSocket;
  /** What this role may send; other types are ignored silently, as every Epic component does. */
  schema: S;
  limits: () => PsLimits;
  clock: Clock;
  log: Logger;
  /** A valid message of this role. */
  onMessage(message: z.infer<S>): void;
  /** A frame was dropped. */
  onDrop(why: PsDrop): void;
  /** The socket was cut off as a stalled reader. */
  onStalled(): void;
}

export class PsSocket<S extends RoleSchema> {
  readonly #ws: WebSocket;
  readonly #limits: () => PsLimits;
  readonly #bucket: TokenBucket;
  readonly #options: PsSocketOptions<S>;
  readonly log: Logger;
  #violations = 0;
  #closed = false;

  constructor(options: PsSocketOptions<S>) {
    this.#ws = options.ws;
    this.#limits = options.limits;
    this.#options = options;
    this.log = options.log;
    const { messagesPerSecond, messageBurst } = options.limits();
    this.#bucket = new TokenBucket(messagesPerSecond, messageBurst, () => options.clock.now());
    this.#ws.on("message", (data, isBinary) => {
      this.#onMessage(data, isBinary);
    });
    this.#ws.on("close", () => {
      this.#closed = true;
    });
    // A frame the WebSocket layer refuses (over maxPayload: 1009; invalid UTF-8: 1007) closes the
    // socket; without a listener the error would be thrown out of the hub.
    this.#ws.on("error", (error: Error & { code?: string }) => {
      this.log.warn({ code: error.code, reason: error.message }, "Pixel Streaming socket error; closing it");
      options.onDrop("invalid");
    });
  }

  get ws(): WebSocket {
    return this.#ws;
  }

  get open(): boolean {
    return !this.#closed && this.#ws.readyState === this.#ws.OPEN;
  }

  send(frame: PsFrame | Record<string, unknown>): void {
    if (!this.open) return;
    // A reader that stopped reading makes its queue grow without bound: cut it off at the cap.
    if (this.#ws.bufferedAmount > this.#limits().maxBufferedBytes) {
      this.log.warn(
        { buffered: this.#ws.bufferedAmount },
        "disconnecting a stalled reader (outbound buffer over limits.maxBufferedBytes)",
      );
      this.#options.onStalled();
      this.#ws.terminate();
      return;
    }
    this.#ws.send(JSON.stringify(frame));
  }

  /** Closes with `code` and a reason the frontend shows (idempotent). */
  close(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ws.close(code, closeReason(reason));
  }

  /** Ends the socket at once, without a closing handshake (a peer judged dead). */
  terminate(): void {
    this.#closed = true;
    this.#ws.terminate();
  }

  /** Counts a dropped frame; past limits.maxViolations the socket is closed (1008). */
  violation(why: PsDrop): void {
    this.#options.onDrop(why);
    this.#violations += 1;
    if (this.#violations === this.#limits().maxViolations) {
      this.log.warn({ violations: this.#violations }, "disconnecting a misbehaving Pixel Streaming peer");
      this.close(PsClose.PolicyViolation, "too many invalid or rate-limited messages");
    }
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    if (this.#closed) return;
    if (!this.#bucket.take()) {
      this.violation("rate-limited");
      return;
    }
    // Epic's clients also accept binary frames holding JSON text; so does the hub.
    const text = Array.isArray(data)
      ? Buffer.concat(data).toString("utf8")
      : Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data).toString("utf8");
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      this.log.debug({ binary: isBinary, bytes: text.length }, "dropped a frame that is not JSON");
      this.violation("not-json");
      return;
    }
    if (
      typeof frame !== "object" ||
      frame === null ||
      Array.isArray(frame) ||
      typeof (frame as { type?: unknown }).type !== "string"
    ) {
      this.log.debug("dropped a frame without a string type");
      this.violation("invalid");
      return;
    }
    const parsed = parsePs(this.#options.schema, frame);
    if (parsed.kind === "unknown") return;
    if (parsed.kind === "invalid") {
      this.log.debug(
        { type: parsed.type, problem: parsed.problem },
        "dropped an invalid Pixel Streaming message",
      );
      this.violation("invalid");
      return;
    }
    try {
      this.#options.onMessage(parsed.message);
    } catch (error) {
      this.log.error({ err: error }, "Pixel Streaming message handler failed");
    }
  }
}
