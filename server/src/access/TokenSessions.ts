/**
 * Sessions held per player token, across every socket that presented it: one player link
 * opened on many sockets must not take all of a streamer's places (`limits.sessionsPerToken`).
 * A token is known by its `jti`, else its subject, else its own digest (see AccessPolicy). Players
 * admitted without a token (open mode) are not counted here; the per-address limit holds them.
 * Counts follow the registry's session events, so they cannot drift from the sessions that exist.
 */
import type { Peer } from "../sessions/Peer.js";
import type { SessionRegistry } from "../sessions/SessionRegistry.js";

export class TokenSessions {
  readonly #tokenOf = new WeakMap<Peer, string>();
  readonly #sessions = new Map<string, number>();

  constructor(registry: SessionRegistry) {
    registry.observer.on("sessionStarted", (session) => {
      const token = this.#tokenOf.get(session.player);
      if (token !== undefined) this.#sessions.set(token, (this.#sessions.get(token) ?? 0) + 1);
    });
    registry.observer.on("sessionClosed", (session) => {
      const token = this.#tokenOf.get(session.player);
      if (token === undefined) return;
      const left = (this.#sessions.get(token) ?? 1) - 1;
      if (left <= 0) this.#sessions.delete(token);
      else this.#sessions.set(token, left);
    });
  }

  /** The player was admitted with this token (kept across resumes: the peer is the same). */
  bind(player: Peer, tokenId: string): void {
    this.#tokenOf.set(player, tokenId);
  }

  /** Sessions held now by every player that presented this player's token (0 without one). */
  heldBy(player: Peer): number {
    const token = this.#tokenOf.get(player);
    return token === undefined ? 0 : (this.#sessions.get(token) ?? 0);
  }
}
