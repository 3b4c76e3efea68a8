/**
 * Warn lines for refusals (a refused handshake, message, dashboard login or HTTP request),
 * throttled so that a flood of refusals cannot flood the log. Each kind of refusal (its log
 * message) may write `burst` lines at once and `perSecond` after that; the lines it holds back
 * are counted, and the count is written with the next line of that kind that gets through, or
 * in a summary line once the flood has paused for `summaryMs` (and at `flush()`, when the hub
 * closes). Nothing is lost but the repetition: the size of every flood stays in the log.
 */
import type { Logger } from "pino";
import { TokenBucket } from "../signaling/TokenBucket.js";

export interface RefusalLogOptions {
  /** Lines of one kind per second once the burst is spent (default 1). */
  perSecond?: number;
  /** Lines of one kind written at once before throttling starts (default 20). */
  burst?: number;
  /** How long after the first held-back line its summary is written at the latest (default 10 s). */
  summaryMs?: number;
  /** Milliseconds on a monotonic clock (injected in tests). */
  now?: () => number;
}

interface Kind {
  readonly bucket: TokenBucket;
  /** Lines held back since the last one written. */
  suppressed: number;
  /** Held-back lines per refusal code. */
  codes: Map<string, number>;
  /** The logger of the last held-back line (it carries the component). */
  log: Logger;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Refusal kinds are a fixed set of messages in the code; this caps the map all the same. */
const MAX_KINDS = 64;

export class RefusalLog {
  readonly #kinds = new Map<string, Kind>();
  readonly #perSecond: number;
  readonly #burst: number;
  readonly #summaryMs: number;
  readonly #now: () => number;

  constructor(options: RefusalLogOptions = {}) {
    this.#perSecond = options.perSecond ?? 1;
    this.#burst = options.burst ?? 20;
    this.#summaryMs = options.summaryMs ?? 10_000;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Writes `log.warn(fields, message)` unless this kind of refusal is being throttled. */
  warn(log: Logger, fields: Record<string, unknown>, message: string): void {
    let kind = this.#kinds.get(message);
    if (!kind) {
      if (this.#kinds.size >= MAX_KINDS) this.#kinds.clear();
      kind = {
        bucket: new TokenBucket(this.#perSecond, this.#burst, this.#now),
        suppressed: 0,
        codes: new Map(),
        log,
        timer: undefined,
      };
      this.#kinds.set(message, kind);
    }
    if (kind.bucket.take()) {
      if (kind.suppressed === 0) {
        log.warn(fields, message);
        return;
      }
      log.warn({ ...fields, ...this.#take(kind) }, message);
      return;
    }
    kind.suppressed += 1;
    kind.log = log;
    const code = typeof fields.code === "string" ? fields.code : "other";
    kind.codes.set(code, (kind.codes.get(code) ?? 0) + 1);
    if (kind.timer === undefined) {
      kind.timer = setTimeout(() => {
        kind.timer = undefined;
        this.#summarise(message, kind);
      }, this.#summaryMs);
      kind.timer.unref();
    }
  }

  /** Writes every pending summary now (the hub is closing). */
  flush(): void {
    for (const [message, kind] of this.#kinds) {
      if (kind.timer !== undefined) clearTimeout(kind.timer);
      kind.timer = undefined;
      this.#summarise(message, kind);
    }
  }

  #summarise(message: string, kind: Kind): void {
    if (kind.suppressed === 0) return;
    kind.log.warn({ refusal: message, ...this.#take(kind) }, "refusals not logged one by one (throttled)");
  }

  #take(kind: Kind): { suppressed: number; suppressedByCode: Record<string, number> } {
    const summary = { suppressed: kind.suppressed, suppressedByCode: Object.fromEntries(kind.codes) };
    kind.suppressed = 0;
    kind.codes = new Map();
    if (kind.timer !== undefined) clearTimeout(kind.timer);
    kind.timer = undefined;
    return summary;
  }
}
