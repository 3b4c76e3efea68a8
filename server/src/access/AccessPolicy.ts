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
   * For a streamer that names its id only after connecting (Pixel Streaming): which ids `key`
   * opens (undefined: any), or why it opens none. As in `check`, open mode admits a streamer
   * without a key, but a key that is presented must be one of the hub's. `where` names how the
   * key is sent, for the refusal.
   */
  streamerKey(
    key: string | undefined,
    where: string,
  ): { ok: true; streamerIds: string[] | undefined } | { ok: false; message: string } {
    const { open, streamerKeys } = this.#config.auth;
    if (key === undefined) {
      return open ? { ok: true, streamerIds: undefined } : { ok: false, message: keyMissing(where) };
    }
    const match = streamerKeys.find((entry) => secretsEqual(entry.key, key));
    return match
      ? { ok: true, streamerIds: match.streamerIds }
      : { ok: false, message: keyUnknown(open, where) };
  }

  /**
   * Open mode admits a streamer without a key and a player without a token, but a key or token
   * that is presented is checked all the same (a wrong one is a mistake worth reporting), and
   * the refusal says exactly what was wrong with it.
   */
  async check(auth: HandshakeAuth): Promise<AccessDecision> {
    const { open, streamerKeys } = this.#config.auth;
    if (auth.role === "streamer") {
      const key = auth.key;
      if (key === undefined) {
        return open ? { ok: true, onlyStreamerId: undefined } : refused(keyMissing("auth.key"));
      }
      const match = streamerKeys.find((entry) => secretsEqual(entry.key, key));
      if (!match) return refused(keyUnknown(open, "auth.key"));
      if (match.streamerIds !== undefined && !match.streamerIds.includes(auth.streamerId)) {
        return refused(
          `this streamer key does not open the id '${auth.streamerId}': use an id it is bound to`,
        );
      }
      return { ok: true, onlyStreamerId: undefined };
    }
    if (auth.token === undefined) {
      return open
        ? { ok: true, onlyStreamerId: undefined }
        : refused("a player token is required (auth.token): open the player link the operator gave you");
    }
    const verified = await this.#verify(auth.token);
    if (!verified.ok) return refused(verified.why);
    const { claims } = verified;
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
    const verified = await this.#verify(token);
    return verified.ok ? verified.claims : undefined;
  }

  /** The token's claims, or what is wrong with it, in words a player's operator can act on. */
  async #verify(
    token: string,
  ): Promise<{ ok: true; claims: PlayerTokenClaims } | { ok: false; why: string }> {
    if (!this.#secret) {
      return { ok: false, why: "this hub has no auth.playerTokenSecret, so no player token is valid here" };
    }
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
      return { ok: true, claims: typeof streamerId === "string" ? { streamerId, tokenId } : { tokenId } };
    } catch (error) {
      if (!(error instanceof joseErrors.JOSEError)) throw error;
      return { ok: false, why: tokenProblem(error) };
    }
  }
}

/** A closed hub's refusal of a streamer without a key; `where` names how a key is sent. */
function keyMissing(where: string): string {
  return `a streamer key is required (${where}): ask the operator for one`;
}

/** The refusal of a presented key that is not the hub's (open mode too: a wrong key is a mistake). */
function keyUnknown(open: boolean, where: string): string {
  return open
    ? `this streamer key is not one of the hub's keys (the hub runs open: leave ${where} out, or send a valid key)`
    : `this streamer key is not one of the hub's keys (${where}): check it, or ask the operator for one`;
}

function refused(message: string): AccessDecision {
  return { ok: false, code: HandshakeError.Unauthorized, message };
}

/** What is wrong with a player token, from jose's error (never the token itself). */
function tokenProblem(error: InstanceType<typeof joseErrors.JOSEError>): string {
  if (error instanceof joseErrors.JWTExpired) {
    return "the player token has expired: ask the operator for a new player link";
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
    return "the player token's signature does not match this hub's secret (forged, or signed before the secret changed): ask for a new link";
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) {
    return "the player token must be signed with HS256";
  }
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    return `the player token's '${error.claim}' claim is wrong (${error.reason}): it was not issued by this hub for players`;
  }
  return "the player token is not a well-formed JWT: open the player link exactly as issued";
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
