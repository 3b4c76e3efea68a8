/**
 * Every peer, streamer and session the hub knows, and the one place that decides teardown:
 * whatever ends a session (a heartbeat lapse, a disconnect past its grace period, an
 * unsubscribe, a dead media path) calls `close()`, which tells both ends why, stops the
 * heartbeat watch and forgets the session. It also owns each session's state (pending,
 * connecting, live, stale) and tells both ends when it changes.
 *
 * Two ways a session ends: `close()` when this node ends it (both ends are told, and the other
 * node if it holds one), `remoteClosed()` when the other node ended it or is gone (only the end
 * here is told). A cross-node open that the streamer's node refused is `abandon()`ed: nobody
 * was ever told of it.
 *
 * Multi-node: a session whose ends are on two hub nodes exists on both, each node holding one
 * end (the other is a remote Peer). Each node judges only its own end's heartbeat, tells the
 * other node through `bridge` when its end turns late or on time and when it closes the session,
 * and tells only its own peer; `closeNode` ends every session shared with a node that is gone.
 *
 * What the hub's own behaviour depends on is called directly and in a fixed order: the ends,
 * the `bridge` (the cluster), the per-token session counts. The `observer` is for monitoring
 * (metrics, history, dashboards, streamer-list pushes): its listeners run each on their own, so
 * one that throws cannot stop a teardown, and nothing that decides anything listens there.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import type { Logger } from "pino";
import type { HeartbeatSettings, HubMessage, Role, SessionCloseReason, SessionEnd } from "@heartline/shared";
import type { Clock } from "@heartline/shared/timing";
import {
  HeartbeatMonitor,
  type HeartbeatTimings,
  type SuspicionResponse,
} from "../heartbeat/HeartbeatMonitor.js";
import type { DetectorKind } from "../heartbeat/detector.js";
import { Peer, type PeerTransport, type WireProtocol } from "./Peer.js";
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
  /** How dead ends are found (default: the fixed timeout alone). */
  detector?: DetectorOptions;
  clock: Clock;
  logger: Logger;
}

/**
 * How the registry keeps the cluster in step (cluster/RemoteSessions), called directly at each
 * step of a session's and a streamer's life.
 */
export interface SessionBridge {
  /** A session started (any session: the cluster records those whose player is here). */
  started(session: Session): void;
  /** The end on this node of a cross-node session turned late (`true`) or on time again. */
  late(session: Session, late: boolean): void;
  /** This node closed a cross-node session: the other node closes its half with the same reason. */
  closed(session: Session, reason: SessionCloseReason): void;
  /** A session that had started is gone, however it ended. */
  ended(session: Session): void;
  /** This node's streamers joined, left, went away or came back. */
  streamersChanged(): void;
}

export interface SessionRegistryEvents {
  /** The set of listed streamers changed. */
  streamersChanged: [];
  sessionStarted: [session: Session];
  /** A session that had started has closed (see `Session.closeReason`). */
  sessionClosed: [session: Session];
}

/** The config's `heartbeat.detector` and `heartbeat.pauseToleranceMs`. */
export interface DetectorOptions {
  kind: DetectorKind;
  pauseToleranceMs: number;
}

const FIXED_DETECTOR: DetectorOptions = { kind: "fixed", pauseToleranceMs: 0 };

function timingsOf(settings: HeartbeatSettings, detector: DetectorOptions): HeartbeatTimings {
  return {
    timeoutMs: settings.timeoutMs,
    staleAfterMs: settings.staleAfterMs,
    // A player always gets at least one beat to answer a ping.
    answerGraceMs: settings.intervalMs,
    detector: detector.kind,
    intervalMs: settings.intervalMs,
    pauseToleranceMs: detector.pauseToleranceMs,
  };
}

const OTHER: Record<SessionEnd, SessionEnd> = { streamer: "player", player: "streamer" };

export class SessionRegistry {
  readonly #streamers = new Map<string, Peer>();
  readonly #peersByToken = new Map<string, Peer>();
  readonly #sessions = new Map<string, Session>();
  /** Peers on other nodes that are an end of a session here, by `${node}/${peerId}`. */
  readonly #remotePeers = new Map<string, Peer>();
  /** Sessions held by the players admitted with each token (`Peer.tokenId`), across sockets. */
  readonly #sessionsByToken = new Map<string, number>();
  /** Set in multi-node mode. */
  bridge: SessionBridge | undefined;
  readonly #heartbeat: HeartbeatMonitor;
  readonly #clock: Clock;
  readonly #log: Logger;
  #settings: HeartbeatSettings;
  #detector: DetectorOptions;
  #enforce: boolean;
  /** For monitoring only: nothing that decides anything listens here (see the header). */
  readonly observer = new EventEmitter<SessionRegistryEvents>();

  constructor(options: SessionRegistryOptions) {
    this.#clock = options.clock;
    this.#log = options.logger;
    this.#settings = options.heartbeat;
    this.#detector = options.detector ?? FIXED_DETECTOR;
    this.#enforce = options.enforce;
    this.#heartbeat = new HeartbeatMonitor({
      timings: timingsOf(options.heartbeat, this.#detector),
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
        suspect: (sessionId, end) => this.#suspect(sessionId, end),
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

  /** Peers on other nodes that are an end of a session here (multi-node). */
  get remotePeerCount(): number {
    return this.#remotePeers.size;
  }

  /** Sessions the heartbeat monitor watches: equal to `sessionCount` unless teardown leaked one. */
  get watchedCount(): number {
    return this.#heartbeat.size;
  }

  /**
   * Sessions held now by every player admitted with `player`'s token (0 for a player admitted
   * without one). Counted as sessions start and close, so it cannot drift from them.
   */
  sessionsHeldWithToken(player: Peer): number {
    return player.tokenId === undefined ? 0 : (this.#sessionsByToken.get(player.tokenId) ?? 0);
  }

  /**
   * The sizes of this registry's maps, for leak checks (`heartline_internal_entries`): each
   * follows the peers and sessions that exist, and returns to them once faults stop.
   */
  internals(): Record<string, number> {
    return {
      "registry.streamers": this.#streamers.size,
      "registry.peers": this.#peersByToken.size,
      "registry.sessions": this.#sessions.size,
      "registry.remote_peers": this.#remotePeers.size,
      "registry.sessions_by_token": this.#sessionsByToken.size,
      "heartbeat.watched": this.#heartbeat.size,
    };
  }

  /** Every peer, connected or away. */
  peers(): IterableIterator<Peer> {
    return this.#peersByToken.values();
  }

  sessions(): IterableIterator<Session> {
    return this.#sessions.values();
  }

  /** New heartbeat settings apply to every session at once. */
  reconfigure(
    settings: HeartbeatSettings,
    enforce: boolean,
    detector: DetectorOptions = this.#detector,
  ): void {
    this.#settings = settings;
    this.#enforce = enforce;
    this.#detector = detector;
    this.#heartbeat.reconfigure(timingsOf(settings, detector));
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

  /** The streamer under this id, connected or away. */
  streamerPeer(streamerId: string): Peer | undefined {
    return this.#streamers.get(streamerId);
  }

  peerByToken(token: string): Peer | undefined {
    return this.#peersByToken.get(token);
  }

  /** Gives a resuming peer a new resume token; the old one resumes nothing any more. */
  rotateResumeToken(peer: Peer): void {
    if (this.#peersByToken.get(peer.resumeToken) !== peer) return;
    this.#peersByToken.delete(peer.resumeToken);
    peer.resumeToken = randomBytes(24).toString("base64url");
    this.#peersByToken.set(peer.resumeToken, peer);
  }

  /** Connected streamers of one wire protocol with their viewer counts, in registration order. */
  listStreamers(protocol: WireProtocol = "heartline"): { streamerId: string; players: number }[] {
    const list: { streamerId: string; players: number }[] = [];
    for (const [streamerId, peer] of this.#streamers) {
      if (!peer.away && peer.protocol === protocol) list.push({ streamerId, players: peer.sessions.size });
    }
    return list;
  }

  /**
   * A new peer on a fresh socket. Returns undefined for a streamer whose id is taken (the
   * handshake checks first; this closes the race between two handshakes).
   */
  addPeer(
    role: Role,
    streamerId: string | undefined,
    transport: PeerTransport,
    protocol: WireProtocol = "heartline",
  ): Peer | undefined {
    if (role === "streamer" && (streamerId === undefined || this.#streamers.has(streamerId)))
      return undefined;
    const token = randomBytes(24).toString("base64url");
    const peer = new Peer(randomUUID(), role, streamerId, token, transport, undefined, protocol);
    this.#peersByToken.set(peer.resumeToken, peer);
    if (role === "streamer" && streamerId !== undefined) {
      this.#streamers.set(streamerId, peer);
      this.#log.info({ streamerId, peerId: peer.id, protocol }, "streamer registered");
      this.#streamersChanged();
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
    for (const session of peer.sessions) {
      if (session.state === "pending") continue;
      this.#refresh(session.id);
      // Killed or dropped? A killed process sends no media either: if the other end sees none
      // arrive, the session ends now instead of after the grace period (mediaReported).
      this.#askAboutMedia(session, peer.role);
    }
    if (peer.role === "streamer") this.#streamersChanged();
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
    if (wasAway && peer.role === "streamer") this.#streamersChanged();
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
      this.#streamersChanged();
    }
  }

  /**
   * Starts a session between a registered streamer and a player and tells both ends (the ends
   * on this node). `sessionId` is given when another node named it (cross-node open).
   */
  open(streamer: Peer, player: Peer, sessionId: string = randomUUID()): Session {
    const session = this.#add(new Session(sessionId, streamer, player, this.#clock.now()));
    this.#begin(session);
    return session;
  }

  /**
   * A session with a streamer on another node, held until that node accepts it: it counts
   * against the player's limits and closes like any other, but its heartbeat is not watched and
   * nobody is told it started until `confirm`.
   */
  openPending(streamer: Peer, player: Peer): Session {
    return this.#add(new Session(randomUUID(), streamer, player, this.#clock.now(), true));
  }

  /** The streamer's node accepted a pending session: start it. False if it closed meanwhile. */
  confirm(session: Session): boolean {
    if (!session.start()) return false;
    this.#begin(session);
    return true;
  }

  /** The streamer's node refused a pending session: forget it; nobody was told of it. */
  abandon(session: Session): void {
    if (session.state === "pending") this.#end(session, "unsubscribed", false);
  }

  /**
   * The peer `peerId` held by `node`, as an end of sessions here (created on first use).
   * Its transport relays through the cluster; it is forgotten with its last session.
   */
  remotePeer(
    node: string,
    peerId: string,
    role: Role,
    streamerId: string | undefined,
    transport: PeerTransport,
    protocol: WireProtocol = "heartline",
  ): Peer {
    const key = `${node}/${peerId}`;
    let peer = this.#remotePeers.get(key);
    if (!peer) {
      peer = new Peer(peerId, role, streamerId, "", transport, node, protocol);
      this.#remotePeers.set(key, peer);
    }
    return peer;
  }

  /** The session `sessionId` if its other end is on `node` (so a node only reaches its own). */
  sharedWith(node: string, sessionId: string): Session | undefined {
    const session = this.#sessions.get(sessionId);
    return session && session.remoteNode === node ? session : undefined;
  }

  /** The other node reported its end of the session late or on time again. */
  remoteLate(session: Session, late: boolean): void {
    if (!session.link) return;
    session.link.late = late;
    this.#refresh(session.id);
  }

  /**
   * Ends every session shared with `node` (it is gone, restarted, or this node lost Redis).
   * Pending opens are left to their answer or their timeout: an `opened` from a node that just
   * restarted is the new process accepting the session, not the old one's (its first envelope,
   * carrying its new incarnation, is what declares the old one gone).
   */
  closeNode(node: string, reason: SessionCloseReason): void {
    for (const session of [...this.#sessions.values()]) {
      if (session.remoteNode === node && session.state !== "pending") this.remoteClosed(session, reason);
    }
  }

  #add(session: Session): Session {
    this.#sessions.set(session.id, session);
    session.streamer.sessions.add(session);
    session.player.sessions.add(session);
    return session;
  }

  /** The session is on: watch its heartbeat, tell its ends, the cluster and the observer. */
  #begin(session: Session): void {
    const { streamer, player } = session;
    if (player.tokenId !== undefined) {
      this.#sessionsByToken.set(player.tokenId, (this.#sessionsByToken.get(player.tokenId) ?? 0) + 1);
    }
    this.#heartbeat.track(session.id, { streamerElsewhere: streamer.remote });
    this.#log.info(
      {
        sessionId: session.id,
        streamerId: session.streamerId,
        playerId: player.id,
        ...(session.remoteNode === undefined ? {} : { remoteNode: session.remoteNode }),
      },
      "session started",
    );
    this.#tell(player, { type: "sessionStarted", sessionId: session.id, streamerId: session.streamerId });
    this.#tell(streamer, { type: "playerJoined", sessionId: session.id });
    this.bridge?.started(session);
    this.#notify("sessionStarted", session);
  }

  #streamersChanged(): void {
    this.bridge?.streamersChanged();
    this.#notify("streamersChanged");
  }

  /**
   * Tells the observer's listeners, each on its own: one that throws is logged and cannot stop
   * the others or the teardown that called it.
   */
  #notify<E extends keyof SessionRegistryEvents>(event: E, ...args: SessionRegistryEvents[E]): void {
    for (const listener of this.observer.listeners(event)) {
      try {
        (listener as (...a: SessionRegistryEvents[E]) => void)(...args);
      } catch (error) {
        this.#log.error({ err: error, event }, "a session observer failed; teardown carried on");
      }
    }
  }

  /** The hub's own messages go to the ends on this node; the other node tells its own. */
  #tell(peer: Peer, message: HubMessage): void {
    if (!peer.remote) peer.send(message);
  }

  /**
   * The session named `sessionId` if `peer` is one of its ends. A session that does not exist
   * and one the peer is not part of look the same to the caller, so ids cannot be probed.
   */
  sessionOf(peer: Peer, sessionId: string): Session | undefined {
    const session = this.#sessions.get(sessionId);
    return session && session.endOf(peer) !== undefined ? session : undefined;
  }

  /**
   * A valid message from `end` for this session: that end is alive. O(1), no timers. `beat`:
   * the message was the heartbeat itself (the adaptive detector learns its rhythm from those).
   */
  heard(session: Session, end: SessionEnd, beat = false): void {
    this.#heartbeat.heard(session.id, end, beat);
  }

  /** The peer answered a probe: it is running, so none of its sessions is suspect any more. */
  probeAnswered(peer: Peer, probeId: string): void {
    if (peer.probeId === probeId) peer.probeId = undefined;
    for (const session of peer.sessions) this.#heartbeat.probeAnswered(session.id, peer.role);
  }

  /**
   * `reporter`, an end of `session`, answered a `mediaCheck` about the other end: media from it
   * is still arriving (`flowing`) or not. Answers to anything but the check in flight are ignored.
   */
  mediaReported(session: Session, reporter: Peer, checkId: string, flowing: boolean): void {
    const check = session.mediaCheck;
    const reporterEnd = session.endOf(reporter);
    if (check?.id !== checkId || reporterEnd === undefined || check.about !== OTHER[reporterEnd]) return;
    session.mediaCheck = undefined;
    const about = check.about;
    const subject = session.peerAt(about);
    this.#log.info({ sessionId: session.id, about, flowing, away: subject.away }, "media report");
    if (subject.away) {
      if (flowing) return;
      // The socket dropped and no media arrives either: the process is gone, not the link.
      this.#log.info(
        { sessionId: session.id, end: about },
        "no media from the away end either: ending the session without waiting for a resume",
      );
      this.close(session, LEFT_REASON[about]);
      return;
    }
    this.#heartbeat.media(session.id, about, flowing ? "flowing" : "dead");
  }

  /** adaptive detector: probe the suspect end and ask the other end about media from it. */
  #suspect(sessionId: string, end: SessionEnd): SuspicionResponse {
    const session = this.#sessions.get(sessionId);
    if (!session) return { probed: false, mediaAsked: false };
    const peer = session.peerAt(end);
    let probed = false;
    if (!peer.remote && !peer.away && peer.features.has("probe")) {
      // One probe per peer answers for all its sessions.
      if (peer.probeId === undefined) {
        peer.probeId = randomBytes(9).toString("base64url");
        peer.send({ type: "probe", probeId: peer.probeId });
      }
      probed = true;
    }
    const mediaAsked = this.#askAboutMedia(session, end);
    // Peers that can answer nothing (older or third-party ones) are judged by the timeout alone.
    if (probed || mediaAsked)
      this.#log.info({ sessionId, end, probed, mediaAsked }, "end suspect: missed its beat");
    return { probed, mediaAsked };
  }

  /** Sends the other end of `session` a `mediaCheck` about `about`; false if it cannot answer. */
  #askAboutMedia(session: Session, about: SessionEnd): boolean {
    const asked = session.peerAt(OTHER[about]);
    if (asked.remote || asked.away || !asked.features.has("mediaCheck")) return false;
    const id = randomBytes(9).toString("base64url");
    session.mediaCheck = { id, about };
    asked.send({ type: "mediaCheck", sessionId: session.id, checkId: id });
    return true;
  }

  /** A ping reached the player: its silence counts from now on (on the player's node). */
  pingRelayed(session: Session): void {
    if (session.player.remote) return;
    this.#heartbeat.pingRelayed(session.id);
  }

  /** A pong made it back: the heartbeat works end to end. */
  pongRelayed(session: Session): void {
    if (session.markProven()) {
      this.#log.info({ sessionId: session.id }, "session live");
      this.#announce(session);
    }
  }

  /**
   * This node ends the session: both ends are told why, and the other node if it holds one.
   * Idempotent.
   */
  close(session: Session, reason: SessionCloseReason): void {
    this.#end(session, reason, true);
  }

  /** The other node ended the session (or is gone): only the end on this node is told. */
  remoteClosed(session: Session, reason: SessionCloseReason): void {
    this.#end(session, reason, false);
  }

  #end(session: Session, reason: SessionCloseReason, tellOtherNode: boolean): void {
    const was = session.close(reason);
    if (was === undefined) return;
    this.#heartbeat.untrack(session.id);
    this.#sessions.delete(session.id);
    for (const peer of [session.streamer, session.player]) {
      peer.sessions.delete(session);
      if (peer.remote && peer.sessions.size === 0) this.#remotePeers.delete(`${peer.node ?? ""}/${peer.id}`);
    }
    if (session.link && tellOtherNode) this.bridge?.closed(session, reason);
    // A cross-node open that never completed: nobody was told it started.
    if (was === "pending") {
      this.#log.debug({ sessionId: session.id, reason }, "pending cross-node session dropped");
      return;
    }
    const { tokenId } = session.player;
    if (tokenId !== undefined) {
      const left = (this.#sessionsByToken.get(tokenId) ?? 1) - 1;
      if (left <= 0) this.#sessionsByToken.delete(tokenId);
      else this.#sessionsByToken.set(tokenId, left);
    }
    const ageMs = Math.round(this.#clock.now() - session.startedAt);
    this.#log.info(
      {
        sessionId: session.id,
        streamerId: session.streamerId,
        playerId: session.player.id,
        reason,
        ageMs,
        ...(session.remoteNode === undefined ? {} : { remoteNode: session.remoteNode }),
      },
      "session closed",
    );
    const message = { type: "sessionClosed", sessionId: session.id, reason } as const;
    this.#tell(session.streamer, message);
    this.#tell(session.player, message);
    this.bridge?.ended(session);
    this.#notify("sessionClosed", session);
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
      if (this.#isLate(session, end)) return end;
    }
    return undefined;
  }

  #isLate(session: Session, end: SessionEnd): boolean {
    const peer = session.peerAt(end);
    if (peer.remote) return session.link?.late ?? false;
    return peer.away || (this.#heartbeat.health(session.id, end) ?? "fresh") !== "fresh";
  }

  #refresh(sessionId: string): void {
    const session = this.#sessions.get(sessionId);
    if (!session) return;
    const { link } = session;
    if (link && session.state !== "pending") {
      // The other node shows this node's end as this node judges it.
      const localLate = this.#isLate(session, OTHER[link.end]);
      if (localLate !== link.lateSent) {
        link.lateSent = localLate;
        this.bridge?.late(session, localLate);
      }
    }
    const late = this.#lateEnd(session);
    const away = late !== undefined && !session.peerAt(late).remote && session.peerAt(late).away;
    if (!session.setLate(late, away)) return;
    this.#log.info({ sessionId, state: session.state, late: session.late }, "session state");
    this.#announce(session);
  }

  /** Video started or stopped reaching the player: both ends hear it with the session's state. */
  mediaChanged(session: Session): void {
    if (session.state === "closed" || session.state === "pending") return;
    this.#log.info({ sessionId: session.id, media: session.media }, "session media");
    this.#announce(session);
  }

  /** Tells both ends the session's state; `live` means no end is late. */
  #announce(session: Session): void {
    const media = session.media === undefined ? {} : { media: session.media };
    const message =
      session.state === "stale" && session.late !== undefined
        ? ({
            type: "sessionState",
            sessionId: session.id,
            state: "stale",
            late: session.late,
            ...(session.lateAway ? { away: true as const } : {}),
            ...media,
          } as const)
        : ({ type: "sessionState", sessionId: session.id, state: "live", ...media } as const);
    this.#tell(session.streamer, message);
    this.#tell(session.player, message);
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
    const peer = session.peerAt(end);
    if (end === "streamer" && !peer.remote) peer.unresponsive = true;
    this.close(session, LAPSE_REASON[end]);
  }
}
