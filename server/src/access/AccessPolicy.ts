/**
 * Who may connect, decided at the handshake: streamers by key, players by a signed, expiring
 * token, browsers by Origin. `auth.open` lets everyone in (demos only; it must be explicit).
 * Every refusal is a stable HandshakeError code; no reason is given that would help a guesser
 * beyond the code.
 */
import { createHash, randomUUID } from "node:crypto";
import { isIP } from "node:net";
import { jwtVerify, SignJWT, errors as joseErrors } from "jose";
import { HandshakeError, type HandshakeAuth } from "@heartline/shared";
import type { HubConfig } from "@heartline/shared/config";
import { secretsEqual } from "./secrets.js";

export type AccessDecision =
  | {
      ok: true;
      /** For players with a token naming a streamer: the only streamer they may watch. */
      onlyStreamerId: string | undefined;
      /** For players with a token: what identifies the token (its jti, else subject, else digest). */
      tokenId?: string | undefined;
    }
  | { ok: false; code: HandshakeError; message: string };

/** Claims heartline puts in a player token. */
export interface PlayerTokenClaims {
  /** Restrict the token to one streamer. */
  streamerId?: string;
  /** What identifies the token for `limits.sessionsPerToken` (jti, else sub, else its digest). */
  tokenId?: string;
}

const ISSUER = "heartline";
const AUDIENCE = "heartline-player";

export class AccessPolicy {
  #config: Pick<HubConfig, "auth" | "allowedOrigins">;
  #secret: Uint8Array | undefined;

  constructor(config: Pick<HubConfig, "auth" | "allowedOrigins">) {
    this.#config = config;
    this.#secret = undefined;
    this.update(config);
  }

  /** New keys, secret or origins (a live config change). */
  update(config: Pick<HubConfig, "auth" | "allowedOrigins">): void {
    this.#config = config;
    const secret = config.auth.playerTokenSecret;
    this.#secret = secret === undefined ? undefined : new TextEncoder().encode(secret);
  }

  /** What an operator should be warned about at start. */
  warnings(): string[] {
    const { auth } = this.#config;
    if (auth.open) return ["auth.open is true: any streamer and any player may connect (demo mode)"];
    const warnings: string[] = [];
    if (auth.streamerKeys.length === 0) {
      warnings.push(
        "no auth.streamerKeys: every streamer will be refused (or set auth.open=true for a demo)",
      );
    }
    if (auth.playerTokenSecret === undefined) {
      warnings.push(
        "no auth.playerTokenSecret: every player will be refused (or set auth.open=true for a demo)",
      );
    }
    return warnings;
  }

  /**
   * Browsers always send Origin; it must be the hub's own origin or one allowed in config, by
   * exact match (no prefixes, no wildcards: "https://hub.example.com.evil.net" is not
   * "https://hub.example.com"). Clients that are not browsers send none and are judged by their
   * key or token alone.
   *
   * `ownOrigin` comes from the request's Host header, which the page's author controls under DNS
   * rebinding (evil.example resolving to the hub): a page at http://evil.example:8080 sends
   * `Host: evil.example:8080` and a matching Origin. So the Host counts as the hub's own only when
   * it is an IP address or `localhost`, which no other site's page can have; a hub reached by a
   * name must list that origin in `allowedOrigins`.
   */
  originAllowed(origin: string | undefined, ownOrigin: string): boolean {
    if (origin === undefined) return true;
    if (origin === "null") return false;
    if (this.#config.allowedOrigins.includes(origin)) return true;
    return origin === ownOrigin && hostCannotBeRebound(ownOrigin);
  }

  /**
   * For a streamer that names its id only after connecting (Pixel Streaming): whether `key`
   * opens any id, and which ids it is bound to (undefined: any). Undefined when it opens none.
   */
  streamerKey(key: string | undefined): { streamerIds: string[] | undefined } | undefined {
    const { open, streamerKeys } = this.#config.auth;
    if (open) return { streamerIds: undefined };
    const match = key === undefined ? undefined : streamerKeys.find((entry) => secretsEqual(entry.key, key));
    return match && { streamerIds: match.streamerIds };
  }

  async check(auth: HandshakeAuth): Promise<AccessDecision> {
    const { open, streamerKeys } = this.#config.auth;
    if (auth.role === "streamer") {
      if (open) return { ok: true, onlyStreamerId: undefined };
      const key = auth.key;
      const match =
        key === undefined ? undefined : streamerKeys.find((entry) => secretsEqual(entry.key, key));
      if (!match || (match.streamerIds !== undefined && !match.streamerIds.includes(auth.streamerId))) {
        return {
          ok: false,
          code: HandshakeError.Unauthorized,
          message: "a valid streamer key for this streamer id is required (auth.key)",
        };
      }
      return { ok: true, onlyStreamerId: undefined };
    }
    if (auth.token === undefined) {
      return open
        ? { ok: true, onlyStreamerId: undefined }
        : {
            ok: false,
            code: HandshakeError.Unauthorized,
            message: "a player token is required (auth.token)",
          };
    }
    // A token is checked even in open mode: a bad one is a mistake worth reporting.
    const claims = await this.verifyPlayerToken(auth.token);
    if (!claims) {
      return {
        ok: false,
        code: HandshakeError.Unauthorized,
        message: "the player token is invalid or expired",
      };
    }
    return { ok: true, onlyStreamerId: claims.streamerId, tokenId: claims.tokenId };
  }

  /** Issues a player token (for the operator's token endpoint). */
  async issuePlayerToken(
    claims: PlayerTokenClaims,
    ttlSec = this.#config.auth.playerTokenTtlSec,
  ): Promise<string> {
    if (!this.#secret) throw new Error("auth.playerTokenSecret is not set");
    const jwt = new SignJWT(claims.streamerId === undefined ? {} : { streamerId: claims.streamerId })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      // Each issued link is its own token, so limits.sessionsPerToken counts one link.
      .setJti(randomUUID())
      .setExpirationTime(`${ttlSec}s`);
    return jwt.sign(this.#secret);
  }

  /** The token's claims, or undefined when it is forged, expired or malformed. */
  async verifyPlayerToken(token: string): Promise<PlayerTokenClaims | undefined> {
    if (!this.#secret) return undefined;
    try {
      const { payload } = await jwtVerify(token, this.#secret, {
        algorithms: ["HS256"],
        issuer: ISSUER,
        audience: AUDIENCE,
        requiredClaims: ["exp"],
      });
      const streamerId = payload.streamerId;
      const tokenId =
        payload.jti ?? payload.sub ?? createHash("sha256").update(token).digest("base64url").slice(0, 22);
      return typeof streamerId === "string" ? { streamerId, tokenId } : { tokenId };
    } catch (error) {
      if (error instanceof joseErrors.JOSEError) return undefined;
      throw error;
    }
  }
}

/** Whether an origin's host is an IP address or localhost: a name DNS rebinding cannot give another site. */
function hostCannotBeRebound(origin: string): boolean {
  let hostname: string;
  try {
    hostname = new URL(origin).hostname;
  } catch {
    return false;
  }
  const bare = hostname.startsWith("[") ? hostname.slice(1, -1) : hostname;
  return isIP(bare) !== 0 || bare === "localhost";
}
