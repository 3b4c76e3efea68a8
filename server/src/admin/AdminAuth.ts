/**
 * Checks the operator's credential (`admin.token`) for the admin API and the dashboard
 * namespace. Tokens are compared in constant time (on their SHA-256, so lengths never leak).
 * The token is read on every check, so a live config change applies at once.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { AdminError } from "@heartline/shared/admin";

export type AdminCheck =
  | { ok: true }
  | { ok: false; code: typeof AdminError.Disabled | typeof AdminError.Unauthorized; message: string };

const DISABLED_MESSAGE =
  "the admin API and dashboard are off: set admin.token (HEARTLINE_ADMIN_TOKEN or --admin-token) to enable them";

const digest = (value: string): Buffer => createHash("sha256").update(value, "utf8").digest();

export class AdminAuth {
  readonly #token: () => string | undefined;

  constructor(token: () => string | undefined) {
    this.#token = token;
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
