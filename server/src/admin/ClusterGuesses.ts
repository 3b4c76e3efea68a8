/**
 * The admin-token guess budget of each client address, shared by every hub of a cluster through
 * Redis, so guesses spread over several nodes spend one budget. It is AdminAuth's bucket
 * (GUESS_BURST wrong tokens, one more every GUESS_REFILL_SEC), kept as one key per address whose
 * remaining time to live is what the address owes: each wrong guess adds GUESS_REFILL_SEC (at most
 * the whole burst), Redis's clock pays it back, and the address is locked out while it owes more
 * than GUESS_BURST - 1 guesses. No node's clock is involved, and an idle address leaves no key.
 *
 * Redis is trusted neither to be up nor to be honest: an answer that fails, comes late or is not
 * one a hub could have written is "unknown", and AdminAuth goes by its own count, which it keeps
 * all the same.
 */
import { createHash } from "node:crypto";
import { isIP } from "node:net";
import type { Redis } from "ioredis";
import type { Logger } from "pino";

/** What AdminAuth asks of the cluster-wide budget; undefined means "unknown: use your own count". */
export interface SharedGuesses {
  /**
   * One admin-token attempt from `address`: "locked" when it has no guess left (nothing is
   * changed); else a wrong token spends a guess and a right one gives the whole budget back
   * ("open"). Both are one and the same Redis call, so a locked-out guesser cannot tell a right
   * token from a wrong one by the time the answer takes.
   */
  attempt(address: string, token: "right" | "wrong"): Promise<"locked" | "open" | undefined>;
}

export interface ClusterGuessesOptions {
  redis: Pick<Redis, "eval">;
  /** Whether Redis is reachable now (RedisLink.up): while it is not, nothing is asked. */
  up(): boolean;
  /** cluster.keyPrefix: the key is `<prefix>:admin-guesses:<address>`. */
  keyPrefix: string;
  /** How long one Redis answer may take before it counts as unknown. */
  timeoutMs(): number;
  burst: number;
  refillMs: number;
  logger: Logger;
}

/**
 * ARGV: the time one guess owes, the whole burst's, the most an address may owe and still guess,
 * and "wrong" or "right". Locked: nothing changes (as on a node, a locked-out guess is not
 * counted) and the reply is {1, owed}. Else a wrong token adds one guess (at most the burst) and
 * a right one deletes the key; the reply is {0, owed after}.
 */
const ATTEMPT = `
local owed = redis.call('PTTL', KEYS[1])
if owed < 0 then owed = 0 end
if owed > tonumber(ARGV[3]) then return {1, owed} end
if ARGV[4] == 'right' then
  redis.call('DEL', KEYS[1])
  return {0, 0}
end
owed = math.min(owed + tonumber(ARGV[1]), tonumber(ARGV[2]))
redis.call('SET', KEYS[1], owed, 'PX', owed)
return {0, owed}`;

/** A complaint about Redis is written at most this often. */
const WARN_EVERY_MS = 60_000;

export class ClusterGuesses implements SharedGuesses {
  readonly #options: ClusterGuessesOptions;
  #warnedAt = Number.NEGATIVE_INFINITY;

  constructor(options: ClusterGuessesOptions) {
    this.#options = options;
  }

  get #capMs(): number {
    return this.#options.burst * this.#options.refillMs;
  }

  /** The most an address may owe and still guess. */
  get #lockedAboveMs(): number {
    return (this.#options.burst - 1) * this.#options.refillMs;
  }

  async attempt(address: string, token: "right" | "wrong"): Promise<"locked" | "open" | undefined> {
    const { refillMs } = this.#options;
    const reply = await this.#ask(token, (redis) =>
      redis.eval(ATTEMPT, 1, this.#key(address), refillMs, this.#capMs, this.#lockedAboveMs, token),
    );
    if (reply === undefined) return undefined;
    // A reply no hub's script gives (a hostile or broken Redis): neither a lockout nor a pass.
    if (Array.isArray(reply) && reply.length === 2 && this.#valid(reply[1])) {
      const [locked, owed] = reply as [unknown, number];
      if (locked === 1 && owed > this.#lockedAboveMs) return "locked";
      if (locked === 0 && (token === "right" ? owed === 0 : owed >= refillMs)) return "open";
    }
    this.#warn(
      { reply: JSON.stringify(reply).slice(0, 60) },
      "redis holds an admin guess count no hub wrote; using this node's count",
    );
    return undefined;
  }

  #valid(owed: unknown): owed is number {
    return typeof owed === "number" && Number.isInteger(owed) && owed >= 0 && owed <= this.#capMs;
  }

  /** An IP address as it is; anything else (a forwarded header's odd entry) by its digest. */
  #key(address: string): string {
    const part =
      isIP(address) !== 0
        ? address
        : `h-${createHash("sha256").update(address).digest("base64url").slice(0, 22)}`;
    return `${this.#options.keyPrefix}:admin-guesses:${part}`;
  }

  /** Redis's answer, or undefined when it is down, fails or is late. */
  async #ask(
    what: string,
    call: (redis: ClusterGuessesOptions["redis"]) => Promise<unknown>,
  ): Promise<unknown> {
    if (!this.#options.up()) return undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => {
        resolve("late");
      }, this.#options.timeoutMs());
    });
    try {
      const answer = await Promise.race([call(this.#options.redis), late]);
      if (answer !== "late") return answer;
      this.#warn({ what }, "redis did not answer the admin guess count in time; using this node's count");
    } catch (error) {
      this.#warn(
        { what, err: error instanceof Error ? error.message : String(error) },
        "redis failed the admin guess count; using this node's count",
      );
    } finally {
      clearTimeout(timer);
    }
    return undefined;
  }

  #warn(fields: Record<string, unknown>, message: string): void {
    const now = performance.now();
    if (now - this.#warnedAt >= WARN_EVERY_MS) {
      this.#warnedAt = now;
      this.#options.logger.warn(fields, message);
    }
  }
}
