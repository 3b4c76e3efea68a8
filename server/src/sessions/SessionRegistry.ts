/**
 * Every streamer and session the hub knows, and the one place that decides teardown: whatever
 * ends a session (a heartbeat lapse, a disconnect, an unsubscribe) calls `close()`, which tells
 * both ends why, stops the heartbeat watch and forgets the session.
 */
import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import type { Logger } from "pino";
import type { SessionCloseReason } from "@heartline/shared";
import type { Clock } from "../heartbeat/clock.js";
import { HeartbeatMonitor, type End } from "../heartbeat/HeartbeatMonitor.js";
import type { Peer } from "./Peer.js";
import { Session } from "./Session.js";

const LAPSE_REASON: Record<End, SessionCloseReason> = {
  streamer: "streamer-heartbeat-timeout",
  player: "player-heartbeat-timeout",
};

export interface SessionRegistryOptions {
  timeoutMs: number;
  intervalMs: number;
  clock: Clock;
  logger: Logger;
}

export interface SessionRegistryEvents {
  /** The set of registered streamers changed. */
  streamersChanged: [];
}

export class SessionRegistry {
  readonly #streamers = new Map<string, Peer>();
  readonly #sessions = new Map<string, Session>();
  readonly #heartbeat: HeartbeatMonitor;
  readonly #clock: Clock;
  readonly #log: Logger;
  /** For whoever needs to know, without being in the control flow. */
  readonly observer = new EventEmitter<SessionRegistryEvents>();

  constructor(options: SessionRegistryOptions) {
    this.#clock = options.clock;
    this.#log = options.logger;
    this.#heartbeat = new HeartbeatMonitor({
      timings: {
        timeoutMs: options.timeoutMs,
        // Half a beat late counts as a missed beat.
        staleAfterMs: Math.round(options.intervalMs * 1.5),
        // A player always gets at least one beat to answer a ping.
        answerGraceMs: options.intervalMs,
      },
      clock: options.clock,
      listener: {
        stale: (sessionId, end) => {
          this.#log.debug({ sessionId, end }, "heartbeat late");
        },
        fresh: (sessionId, end) => {
          this.#log.debug({ sessionId, end }, "heartbeat back on time");
        },
        lapsed: (sessionId, end) => {
          const session = this.#sessions.get(sessionId);
          if (session) this.close(session, LAPSE_REASON[end]);
        },
      },
    });
  }

  get heartbeat(): HeartbeatMonitor {
    return this.#heartbeat;
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  get streamerCount(): number {
    return this.#streamers.size;
  }

  hasStreamer(streamerId: string): boolean {
    return this.#streamers.has(streamerId);
  }

  streamer(streamerId: string): Peer | undefined {
    return this.#streamers.get(streamerId);
  }

  /** Registered streamers with their viewer counts, in registration order. */
  listStreamers(): { streamerId: string; players: number }[] {
    return [...this.#streamers.entries()].map(([streamerId, peer]) => ({
      streamerId,
      players: peer.sessions.size,
    }));
  }

  /** Returns false when another peer already streams under this id. */
  addStreamer(peer: Peer): boolean {
    const id = peer.streamerId;
    if (id === undefined || this.#streamers.has(id)) return false;
    this.#streamers.set(id, peer);
    this.#log.info({ streamerId: id, peerId: peer.id }, "streamer registered");
    this.observer.emit("streamersChanged");
    return true;
  }

  /** A socket went away: end its sessions with `reason` and forget it. */
  removePeer(peer: Peer, reason: SessionCloseReason): void {
    for (const session of [...peer.sessions]) this.close(session, reason);
    if (peer.streamerId !== undefined && this.#streamers.get(peer.streamerId) === peer) {
      this.#streamers.delete(peer.streamerId);
      this.#log.info({ streamerId: peer.streamerId, peerId: peer.id }, "streamer left");
      this.observer.emit("streamersChanged");
    }
  }

  /** Starts a session between a registered streamer and a player and tells both ends. */
  open(streamer: Peer, player: Peer): Session {
    const session = new Session(randomUUID(), streamer, player, this.#clock.now());
    this.#sessions.set(session.id, session);
    streamer.sessions.add(session);
    player.sessions.add(session);
    this.#heartbeat.track(session.id);
    this.#log.info(
      { sessionId: session.id, streamerId: session.streamerId, playerId: player.id },
      "session started",
    );
    player.send({ type: "sessionStarted", sessionId: session.id, streamerId: session.streamerId });
    streamer.send({ type: "playerJoined", sessionId: session.id });
    return session;
  }

  /**
   * The session named `sessionId` if `peer` is one of its ends. A session that does not exist
   * and one the peer is not part of look the same to the caller, so ids cannot be probed.
   */
  sessionOf(peer: Peer, sessionId: string): Session | undefined {
    const session = this.#sessions.get(sessionId);
    return session && session.endOf(peer) !== undefined ? session : undefined;
  }

  /** Ends a session on both ends; idempotent. */
  close(session: Session, reason: SessionCloseReason): void {
    if (!session.close(reason)) return;
    this.#heartbeat.untrack(session.id);
    this.#sessions.delete(session.id);
    session.streamer.sessions.delete(session);
    session.player.sessions.delete(session);
    const ageMs = Math.round(this.#clock.now() - session.startedAt);
    this.#log.info(
      { sessionId: session.id, streamerId: session.streamerId, playerId: session.player.id, reason, ageMs },
      "session closed",
    );
    const message = { type: "sessionClosed", sessionId: session.id, reason } as const;
    session.streamer.send(message);
    session.player.send(message);
  }

  /** Ends every session (hub shutdown). */
  closeAll(reason: SessionCloseReason): void {
    for (const session of [...this.#sessions.values()]) this.close(session, reason);
    this.#heartbeat.clear();
  }
}
