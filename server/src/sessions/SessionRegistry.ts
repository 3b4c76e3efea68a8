/**
 * Every peer, streamer and session the hub knows, and the one place that decides teardown:
 * whatever ends a session (a heartbeat lapse, a disconnect past its grace period, an
 * unsubscribe, a dead media path) calls `close()`, which tells both ends why, stops the
 * heartbeat watch and forgets the session. It also owns each session's state (connecting,
 * live, stale) and tells both ends when it changes.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import type { Logger } from "pino";
import type { HeartbeatSettings, Role, SessionCloseReason, SessionEnd } from "@heartline/shared";
import type { Clock } from "../heartbeat/clock.js";
import { HeartbeatMonitor, type HeartbeatTimings } from "../heartbeat/HeartbeatMonitor.js";
import { Peer, type PeerTransport } from "./Peer.js";
import { Session } from "./Session.js";

const LAPSE_REASON: Record<SessionEnd, SessionCloseReason> = {
  streamer: "streamer-heartbeat-timeout",
  player: "player-heartbeat-timeout",
};
const LEFT_REASON: Record<Role, SessionCloseReason> = {
  streamer: "streamer-left",
  player: "player-left",
};

export interface SessionRegistryOptions {
  heartbeat: HeartbeatSettings;
  /** Tear down sessions whose heartbeat lapses (false: only log it). */
  enforce: boolean;
  clock: Clock;
  logger: Logger;
}

export interface SessionRegistryEvents {
  /** The set of listed streamers changed. */
  streamersChanged: [];
  sessionClosed: [session: Session];
}

function timingsOf(settings: HeartbeatSettings): HeartbeatTimings {
  return {
    timeoutMs: settings.timeoutMs,
    staleAfterMs: settings.staleAfterMs,
    // A player always gets at least one beat to answer a ping.
    answerGraceMs: settings.intervalMs,
  };
}

export class SessionRegistry {
  readonly #streamers = new Map<string, Peer>();
  readonly #peersByToken = new Map<string, Peer>();
  readonly #sessions = new Map<string, Session>();
  readonly #heartbeat: HeartbeatMonitor;
  readonly #clock: Clock;
  readonly #log: Logger;
  #settings: HeartbeatSettings;
  #enforce: boolean;
  /** For whoever needs to know, without being in the control flow. */
  readonly observer = new EventEmitter<SessionRegistryEvents>();

  constructor(options: SessionRegistryOptions) {
    this.#clock = options.clock;
    this.#log = options.logger;
    this.#settings = options.heartbeat;
    this.#enforce = options.enforce;
    this.#heartbeat = new HeartbeatMonitor({
      timings: timingsOf(options.heartbeat),
      clock: options.clock,
      listener: {
        stale: (sessionId) => {
          this.#refresh(sessionId);
        },
        fresh: (sessionId) => {
          this.#refresh(sessionId);
        },
        lapsed: (sessionId, end) => {
          this.#lapsed(sessionId, end);
        },
      },
    });
  }

  get settings(): HeartbeatSettings {
    return this.#settings;
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  get streamerCount(): number {
    return this.#streamers.size;
  }

  get peerCount(): number {
    return this.#peersByToken.size;
  }

  /** Sessions the heartbeat monitor watches: equal to `sessionCount` unless teardown leaked one. */
  get watchedCount(): number {
    return this.#heartbeat.size;
  }

  /** Every peer, connected or away. */
  peers(): IterableIterator<Peer> {
    return this.#peersByToken.values();
  }

  sessions(): IterableIterator<Session> {
    return this.#sessions.values();
  }

  /** New heartbeat settings apply to every session at once. */
  reconfigure(settings: HeartbeatSettings, enforce: boolean): void {
    this.#settings = settings;
    this.#enforce = enforce;
    this.#heartbeat.reconfigure(timingsOf(settings));
  }

  /** Whether a new streamer may not take this id (a connected or resumable streamer has it). */
  isStreamerIdTaken(streamerId: string): boolean {
    return this.#streamers.has(streamerId);
  }

  /** The streamer under this id, if it is connected (not away). */
  streamer(streamerId: string): Peer | undefined {
    const peer = this.#streamers.get(streamerId);
    return peer && !peer.away ? peer : undefined;
  }

  peerByToken(token: string): Peer | undefined {
    return this.#peersByToken.get(token);
  }

  /** Connected streamers with their viewer counts, in registration order. */
  listStreamers(): { streamerId: string; players: number }[] {
    const list: { streamerId: string; players: number }[] = [];
    for (const [streamerId, peer] of this.#streamers) {
      if (!peer.away) list.push({ streamerId, players: peer.sessions.size });
    }
    return list;
  }

  /**
   * A new peer on a fresh socket. Returns undefined for a streamer whose id is taken (the
   * handshake checks first; this closes the race between two handshakes).
   */
  addPeer(role: Role, streamerId: string | undefined, transport: PeerTransport): Peer | undefined {
    if (role === "streamer" && (streamerId === undefined || this.#streamers.has(streamerId)))
      return undefined;
    const peer = new Peer(randomUUID(), role, streamerId, randomBytes(24).toString("base64url"), transport);
    this.#peersByToken.set(peer.resumeToken, peer);
    if (role === "streamer" && streamerId !== undefined) {
      this.#streamers.set(streamerId, peer);
      this.#log.info({ streamerId, peerId: peer.id }, "streamer registered");
      this.observer.emit("streamersChanged");
    }
    return peer;
  }

  /**
   * The peer's socket dropped without saying goodbye: keep its sessions for the resume grace
   * period, tell the other ends it is late, and end everything if it does not come back.
   */
  peerAway(peer: Peer): void {
    if (peer.away) return;
    peer.detach();
    const graceMs = this.#settings.resumeGraceMs;
    this.#log.info({ peerId: peer.id, role: peer.role, sessions: peer.sessions.size, graceMs }, "peer away");
    peer.graceTimer = this.#clock.setTimeout(() => {
      peer.graceTimer = undefined;
      this.#log.info({ peerId: peer.id, role: peer.role }, "peer did not come back within the grace period");
      this.removePeer(peer, LEFT_REASON[peer.role]);
    }, graceMs);
    for (const session of peer.sessions) this.#refresh(session.id);
    if (peer.role === "streamer") this.observer.emit("streamersChanged");
  }

  /**
   * The peer came back (its resume token matched) and is attached to its new socket: it keeps
   * its sessions. Call after the peer has been sent its `config` and `resumed`.
   */
  peerResumed(peer: Peer, wasAway: boolean): void {
    if (peer.graceTimer !== undefined) this.#clock.clearTimeout(peer.graceTimer);
    peer.graceTimer = undefined;
    this.#log.info({ peerId: peer.id, role: peer.role, sessions: peer.sessions.size }, "peer resumed");
    for (const session of peer.sessions) {
      // Coming back proves the end alive.
      this.#heartbeat.heard(session.id, peer.role);
      this.#refresh(session.id);
    }
    if (wasAway && peer.role === "streamer") this.observer.emit("streamersChanged");
  }

  /** The peer is gone for good: end its sessions with `reason` and forget it. */
  removePeer(peer: Peer, reason: SessionCloseReason): void {
    if (peer.graceTimer !== undefined) this.#clock.clearTimeout(peer.graceTimer);
    peer.graceTimer = undefined;
    for (const session of [...peer.sessions]) this.close(session, reason);
    this.#peersByToken.delete(peer.resumeToken);
    peer.detach();
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

  /** A valid message from `end` for this session: that end is alive. O(1), no timers. */
  heard(session: Session, end: SessionEnd): void {
    this.#heartbeat.heard(session.id, end);
  }

  /** A ping reached the player: its silence counts from now on. */
  pingRelayed(session: Session): void {
    this.#heartbeat.pingRelayed(session.id);
  }

  /** A pong made it back: the heartbeat works end to end. */
  pongRelayed(session: Session): void {
    if (session.markProven()) {
      this.#log.info({ sessionId: session.id }, "session live");
      this.#announce(session);
    }
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
    this.observer.emit("sessionClosed", session);
  }

  /** Ends every session and forgets every peer (hub shutdown). */
  closeAll(reason: SessionCloseReason): void {
    for (const session of [...this.#sessions.values()]) this.close(session, reason);
    for (const peer of [...this.#peersByToken.values()]) this.removePeer(peer, reason);
    this.#heartbeat.clear();
  }

  /** The end that is late now: away, or past its stale threshold. The streamer is named first. */
  #lateEnd(session: Session): SessionEnd | undefined {
    for (const end of ["streamer", "player"] as const) {
      if (session.peerAt(end).away || (this.#heartbeat.health(session.id, end) ?? "fresh") !== "fresh") {
        return end;
      }
    }
    return undefined;
  }

  #refresh(sessionId: string): void {
    const session = this.#sessions.get(sessionId);
    if (!session || !session.setLate(this.#lateEnd(session))) return;
    this.#log.info({ sessionId, state: session.state, late: session.late }, "session state");
    this.#announce(session);
  }

  /** Tells both ends the session's state; `live` means no end is late. */
  #announce(session: Session): void {
    const message =
      session.state === "stale" && session.late !== undefined
        ? ({ type: "sessionState", sessionId: session.id, state: "stale", late: session.late } as const)
        : ({ type: "sessionState", sessionId: session.id, state: "live" } as const);
    session.streamer.send(message);
    session.player.send(message);
  }

  #lapsed(sessionId: string, end: SessionEnd): void {
    const session = this.#sessions.get(sessionId);
    if (!session) return;
    this.#refresh(sessionId);
    // An away end is judged by its resume grace period, not by its silence.
    if (session.peerAt(end).away) return;
    if (!this.#enforce) {
      this.#log.warn({ sessionId, end }, "heartbeat lapsed; session kept because heartbeat.enforce is false");
      return;
    }
    this.close(session, LAPSE_REASON[end]);
  }
}
