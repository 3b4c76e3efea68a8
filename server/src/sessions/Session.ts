/**
 * One streamer-to-player session and its lifecycle, decided here and nowhere else:
 *
 *   pending --start()--> connecting --first pong--> live <--late end / back on time--> stale
 *      |                    |  \______________late end______________________________^ |
 *      +--------------------+-------------------------- close() ----------------------+--> closed
 *
 * `pending` is a cross-node session whose streamer's node has not accepted it yet: nobody has
 * been told of it, its heartbeat is not watched, and nothing about it is announced. Every other
 * session starts `connecting`, which becomes `live` on the first pong (a heartbeat made the
 * round trip). An end that missed a beat, or whose socket is away, makes the session `stale`;
 * when no end is late it is `live` again (or `connecting`, if no pong was ever seen). `close()`
 * is idempotent; only the SessionRegistry calls it (it owns teardown).
 *
 * What only a cross-node session has (the other node's view of its end, what that node was
 * told) lives in its `link`, not here.
 */
import type { MediaState, ReceiveStats, SendStats, SessionCloseReason, SessionEnd } from "@heartline/shared";
import type { Peer } from "./Peer.js";

export type SessionState = "pending" | "connecting" | "live" | "stale" | "closed";

/** The latest heartbeat data of a session, as the ends reported it. */
export interface HeartbeatData {
  /** Signaling RTT as the streamer measured it. */
  rttMs?: number;
  /** Media-path (data channel) RTT as the streamer measured it. */
  mediaRttMs?: number;
  sendStats?: SendStats;
  receiveStats?: ReceiveStats;
}

/** A session's link to the hub node that holds its other end (multi-node only). */
export class RemoteLink {
  /** That node reported its end late (away or missed a beat), as it last said. */
  late = false;
  /** Whether that node was last told that the end here is late. */
  lateSent = false;
  /** When a sender here was last told a relay could not leave this node (clock ms). */
  relayRefusedAt = Number.NEGATIVE_INFINITY;

  constructor(
    /** The node holding the other end. */
    readonly node: string,
    /** Which end that node holds. */
    readonly end: SessionEnd,
  ) {}
}

export class Session {
  #state: SessionState;
  #late: SessionEnd | undefined;
  #lateAway = false;
  #proven = false;
  #closeReason: SessionCloseReason | undefined;
  #media: MediaState | undefined;
  #framesDecoded: number | undefined;
  /** Latest heartbeat figures; replaced field by field as pings and pongs arrive. */
  readonly heartbeat: HeartbeatData = {};
  /** Wall-clock start (epoch ms), for records other processes read. */
  readonly startedAtEpochMs = Date.now();
  /** The streamer relayed an offer: it knows of the session (its `playerJoined` arrived). */
  offered = false;
  /** The `mediaCheck` in flight, and the end it asks about (a suspect end, or one away). */
  mediaCheck: { id: string; about: SessionEnd } | undefined;
  /** Multi-node: set when one end is held by another hub node (at most one is). */
  readonly link: RemoteLink | undefined;

  constructor(
    readonly id: string,
    readonly streamer: Peer,
    readonly player: Peer,
    /** Clock time (ms) when the session started. */
    readonly startedAt: number,
    /** A cross-node session waiting for the streamer's node: starts `pending`. */
    pending = false,
  ) {
    this.#state = pending ? "pending" : "connecting";
    const remote =
      streamer.node !== undefined ? "streamer" : player.node !== undefined ? "player" : undefined;
    this.link = remote === undefined ? undefined : new RemoteLink(this.peerAt(remote).node ?? "", remote);
  }

  get state(): SessionState {
    return this.#state;
  }

  /** The end that is late while `stale`. */
  get late(): SessionEnd | undefined {
    return this.#late;
  }

  get closeReason(): SessionCloseReason | undefined {
    return this.#closeReason;
  }

  get streamerId(): string {
    // A session is only ever opened with a registered streamer, which always has an id.
    return this.streamer.streamerId ?? "";
  }

  /** The end `peer` is of this session, or undefined when it is not part of it. */
  endOf(peer: Peer): SessionEnd | undefined {
    if (peer === this.streamer) return "streamer";
    if (peer === this.player) return "player";
    return undefined;
  }

  peerAt(end: SessionEnd): Peer {
    return end === "streamer" ? this.streamer : this.player;
  }

  /** Multi-node: the end held by another hub node, if any. */
  get remoteEnd(): SessionEnd | undefined {
    return this.link?.end;
  }

  /** The node holding the other end, when it is on another node. */
  get remoteNode(): string | undefined {
    return this.link?.node;
  }

  /** The streamer's node accepted a pending session. Returns false unless it was pending. */
  start(): boolean {
    if (this.#state !== "pending") return false;
    this.#state = "connecting";
    return true;
  }

  /** A heartbeat made the round trip. Returns whether the state changed. */
  markProven(): boolean {
    this.#proven = true;
    if (this.#state !== "connecting") return false;
    this.#state = "live";
    return true;
  }

  /** While `stale`: whether the late end's socket is away (dropped), not merely silent. */
  get lateAway(): boolean {
    return this.#lateAway;
  }

  /**
   * Which end (if any) is late now, and whether its socket is away. Returns whether the state,
   * the late end or its being away changed.
   */
  setLate(late: SessionEnd | undefined, away = false): boolean {
    if (this.#state === "closed" || this.#state === "pending") return false;
    if (late !== undefined) {
      if (this.#state === "stale" && this.#late === late && this.#lateAway === away) return false;
      this.#state = "stale";
      this.#late = late;
      this.#lateAway = away;
      return true;
    }
    if (this.#state !== "stale") return false;
    this.#state = this.#proven ? "live" : "connecting";
    this.#late = undefined;
    this.#lateAway = false;
    return true;
  }

  /** Whether video reaches the player, from its reports (undefined: not known yet). */
  get media(): MediaState | undefined {
    return this.#media;
  }

  /**
   * The player reported `framesDecoded` (cumulative): video flows if it grew since its previous
   * report. Returns whether the media state changed.
   */
  noteFramesDecoded(framesDecoded: number): boolean {
    const previous = this.#framesDecoded;
    this.#framesDecoded = framesDecoded;
    // A new peer connection starts counting again: only a new baseline, not a verdict.
    if (previous === undefined || framesDecoded < previous) return false;
    if (this.#state === "closed" || this.#state === "pending") return false;
    const next: MediaState = framesDecoded > previous ? "flowing" : "stalled";
    if (next === this.#media) return false;
    this.#media = next;
    return true;
  }

  /** Closes it; returns the state it was in, or undefined if it was already closed. */
  close(reason: SessionCloseReason): Exclude<SessionState, "closed"> | undefined {
    const from = this.#state;
    if (from === "closed") return undefined;
    this.#state = "closed";
    this.#late = undefined;
    this.#closeReason = reason;
    return from;
  }
}
