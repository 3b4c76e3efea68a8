/**
 * What an operator may do to a running hub, from the dashboard or the admin API: end a session,
 * or disconnect a streamer. Teardown itself stays with the SessionRegistry (reason `kicked`);
 * every action is audit-logged (`audit: true`) with who asked and what it touched.
 */
import type { Logger } from "pino";
import { AdminError, type AdminActionResult } from "@heartline/shared/admin";
import type { SessionRegistry } from "../sessions/SessionRegistry.js";

/** Who asked: the requester's address and the door it came through. */
export interface Actor {
  address: string;
  via: "api" | "dashboard";
}

export interface OperatorOptions {
  registry: SessionRegistry;
  logger: Logger;
}

export class Operator {
  readonly #registry: SessionRegistry;
  readonly #log: Logger;

  constructor(options: OperatorOptions) {
    this.#registry = options.registry;
    this.#log = options.logger;
  }

  /** Ends a session on both ends with the reason `kicked`. */
  endSession(sessionId: string, actor: Actor): AdminActionResult {
    const session = this.#find(sessionId);
    if (!session) {
      this.#log.warn(
        { audit: true, action: "end-session", actor, sessionId, result: "not-found" },
        "operator tried to end an unknown session",
      );
      return { ok: false, code: AdminError.NotFound, message: `no open session '${sessionId}'` };
    }
    this.#log.warn(
      {
        audit: true,
        action: "end-session",
        actor,
        sessionId,
        streamerId: session.streamerId,
        playerId: session.player.id,
      },
      "operator ended a session",
    );
    this.#registry.close(session, "kicked");
    return { ok: true };
  }

  /** Ends every session of a streamer (`kicked`) and disconnects it. */
  disconnectStreamer(streamerId: string, actor: Actor): AdminActionResult {
    let peer;
    for (const candidate of this.#registry.peers()) {
      if (candidate.role === "streamer" && candidate.streamerId === streamerId) peer = candidate;
    }
    if (!peer) {
      this.#log.warn(
        { audit: true, action: "disconnect-streamer", actor, streamerId, result: "not-found" },
        "operator tried to disconnect an unknown streamer",
      );
      return { ok: false, code: AdminError.NotFound, message: `no streamer '${streamerId}'` };
    }
    const sessionIds = [...peer.sessions].map((s) => s.id);
    this.#log.warn(
      { audit: true, action: "disconnect-streamer", actor, streamerId, peerId: peer.id, sessionIds },
      "operator disconnected a streamer",
    );
    // The sessions end as `kicked` before the socket goes, so neither end reads `streamer-left`.
    for (const session of [...peer.sessions]) this.#registry.close(session, "kicked");
    // A connected streamer leaves through its socket's disconnect; an away one is forgotten here.
    if (peer.away) this.#registry.removePeer(peer, "kicked");
    else peer.close();
    return { ok: true };
  }

  #find(sessionId: string) {
    for (const session of this.#registry.sessions()) if (session.id === sessionId) return session;
    return undefined;
  }
}
