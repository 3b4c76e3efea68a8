/**
 * One streamer-to-player session and its lifecycle:
 *
 *   connecting --(first pong: both ends proven)--> live --> closed
 *        \___________________________________________/
 *
 * `close()` is idempotent; only the SessionRegistry calls it (it owns teardown).
 */
import type { SessionCloseReason } from "@heartline/shared";
import type { Peer } from "./Peer.js";

export type SessionState = "connecting" | "live" | "closed";

export class Session {
  #state: SessionState = "connecting";
  #closeReason: SessionCloseReason | undefined;

  constructor(
    readonly id: string,
    readonly streamer: Peer,
    readonly player: Peer,
    /** Clock time (ms) when the session started. */
    readonly startedAt: number,
  ) {}

  get state(): SessionState {
    return this.#state;
  }

  get closeReason(): SessionCloseReason | undefined {
    return this.#closeReason;
  }

  get streamerId(): string {
    // A session is only ever opened with a registered streamer, which always has an id.
    return this.streamer.streamerId ?? "";
  }

  /** The end `peer` is of this session, or undefined when it is not part of it. */
  endOf(peer: Peer): "streamer" | "player" | undefined {
    if (peer === this.streamer) return "streamer";
    if (peer === this.player) return "player";
    return undefined;
  }

  /** The other end from `peer`'s point of view. */
  otherEnd(peer: Peer): Peer {
    return peer === this.streamer ? this.player : this.streamer;
  }

  /** A heartbeat made the round trip: the session is live. Returns whether the state changed. */
  markLive(): boolean {
    if (this.#state !== "connecting") return false;
    this.#state = "live";
    return true;
  }

  /** Returns false if it was already closed. */
  close(reason: SessionCloseReason): boolean {
    if (this.#state === "closed") return false;
    this.#state = "closed";
    this.#closeReason = reason;
    return true;
  }
}
