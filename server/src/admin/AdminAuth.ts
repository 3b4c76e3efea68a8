/**
 * Checks the operator's credential (`admin.token`) for the admin API and the dashboard
 * namespace. Tokens are compared in constant time (on their SHA-256, so lengths never leak).
 * The token is read on every check, so a live config change applies at once.
 *
 * Guesses are throttled per client address: each address has a bucket of
 * `GUESS_BURST` wrong tokens, refilled by one every `GUESS_REFILL_SEC`; an address whose bucket
 * is empty is locked out (`too-many-attempts`, even with the right token) until a guess is back.
 * In a cluster the same budget is also kept in Redis for every hub at once (ClusterGuesses.ts), so
 * guesses spread over several nodes spend one budget; this node's own count stays the floor when
 * Redis is down or answers nonsense.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { AdminError } from "@heartline/shared/admin";
import { TokenBucket } from "../signaling/TokenBucket.js";
import type { SharedGuesses } from "./ClusterGuesses.js";

export type AdminCheck =
  | { ok: true }
  | {
      ok: false;
      code: typeof AdminError.Disabled | typeof AdminError.Unauthorized | typeof AdminError.TooManyAttempts;
      message: string;
    };

/** Wrong admin tokens one address may present before it is locked out. */
export const GUESS_BURST = 10;
/** Seconds after which a locked-out address may guess once more. */
export const GUESS_REFILL_SEC = 60;
/** Addresses remembered at once (an attacker with many addresses cannot grow the map past it). */
const MAX_ADDRESSES = 10_000;

const DISABLED_MESSAGE =
  "the admin API and dashboard are off: set admin.token (HEARTLINE_ADMIN_TOKEN or --admin-token) to enable them";

const digest = (value: string): Buffer => createHash("sha256").update(value, "utf8").digest();

export class AdminAuth {
  readonly #token: () => string | undefined;
  readonly #now: () => number;
  /** Wrong-guess budgets of addresses that guessed wrong recently. */
  readonly #guesses = new Map<string, TokenBucket>();
  /** Multi-node: the same budgets, shared by every hub (undefined: a single hub). */
  readonly #shared: SharedGuesses | undefined;

  constructor(
    token: () => string | undefined,
    options: { now?: () => number; shared?: SharedGuesses | undefined } = {},
  ) {
    this.#token = token;
    this.#now = options.now ?? (() => performance.now());
    this.#shared = options.shared;
  }

  /**
   * `check`, throttled per client address: a wrong token spends one of the address's guesses
   * (on this node and, in a cluster, in the shared budget); with none left it is refused as
   * `too-many-attempts` without being compared (in a cluster: without the answer depending on
   * it). This node's count is decided before anything is awaited, so simultaneous guesses cannot
   * all pass it; the shared budget is checked and spent in one step in Redis, for the same reason
   * across nodes.
   */
  async checkFrom(address: string, presented: unknown): Promise<AdminCheck> {
    const locked: AdminCheck = {
      ok: false,
      code: AdminError.TooManyAttempts,
      message: `too many wrong admin tokens from this address; wait ${GUESS_REFILL_SEC} s and check the token`,
    };
    let bucket = this.#guesses.get(address);
    if (bucket && bucket.tokens() < 1) return locked;
    const result = this.check(presented);
    if (!result.ok) {
      if (result.code !== AdminError.Unauthorized) return result;
      if (!bucket) {
        if (this.#guesses.size >= MAX_ADDRESSES) this.#forget();
        bucket = new TokenBucket(1 / GUESS_REFILL_SEC, GUESS_BURST, this.#now);
        this.#guesses.set(address, bucket);
      }
      bucket.take();
    }
    if ((await this.#shared?.attempt(address, result.ok ? "right" : "wrong")) === "locked") return locked;
    if (result.ok) this.#guesses.delete(address);
    return result;
  }

  /** Drops addresses whose budget is full again; if none, the oldest. */
  #forget(): void {
    for (const [address, bucket] of this.#guesses) if (bucket.full) this.#guesses.delete(address);
    if (this.#guesses.size >= MAX_ADDRESSES) {
      const oldest = this.#guesses.keys().next().value;
      if (oldest !== undefined) this.#guesses.delete(oldest);
    }
  }

  get enabled(): boolean {
    return this.#token() !== undefined;
  }

  check(presented: unknown): AdminCheck {
    const token = this.#token();
    if (token === undefined) return { ok: false, code: AdminError.Disabled, message: DISABLED_MESSAGE };
    if (typeof presented !== "string" || presented.length === 0) {
      return { ok: false, code: AdminError.Unauthorized, message: "an admin token is required" };
    }
    if (!timingSafeEqual(digest(presented), digest(token))) {
      return { ok: false, code: AdminError.Unauthorized, message: "the admin token is wrong" };
    }
    return { ok: true };
  }
}

/** The token of an `Authorization: Bearer <token>` header. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
