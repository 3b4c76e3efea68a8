/**
 * One peer (a streamer or a player) as the sessions layer sees it: the identity the hub gave it
 * and a way to reach it. Routing only ever trusts these fields, never ids a client claims.
 *
 * A peer outlives its socket by up to the resume grace period: when the socket drops, the peer
 * is `away` (messages to it are dropped) and may come back with its resume token on a new
 * socket, keeping its sessions.
 *
 * In multi-node mode the other end of a session may be held by another hub node: that end is a
 * Peer here too, with `node` set, whose transport relays through the cluster. Such a peer is
 * never away here (its own node judges it and reports it late); the hub's own messages
 * (sessionState, sessionClosed, ...) go only to peers on this node.
 */
import type { HubMessage, PeerFeature, Role } from "@heartline/shared";
import type { PsRelayFrame } from "@heartline/shared/pixelstreaming";
import type { TimerHandle } from "@heartline/shared/timing";
import type { Session } from "./Session.js";

/**
 * The wire protocol a peer speaks: heartline's own (socket.io) or Epic's Pixel Streaming (plain
 * WebSocket). Sessions only ever join two peers of the same protocol.
 */
export type WireProtocol = "heartline" | "pixelstreaming";

/**
 * What travels to a peer: the hub's own messages, a relayed heartline message, or (between two
 * Pixel Streaming peers) a relayed Pixel Streaming frame. Each transport writes what its
 * protocol has and translates or drops the rest.
 */
export type PeerMessage = HubMessage | PsRelayFrame;

/** Where messages for a peer go: its current socket, or another hub node. */
export interface PeerTransport {
  send(message: PeerMessage): void;
  /** Closes the socket (idempotent); the transport's own close handling then runs. */
  close(): void;
}

export class Peer {
  /** Sessions this peer is an end of. */
  readonly sessions = new Set<Session>();
  #transport: PeerTransport | undefined;
  /** Set while away: ends the peer when the grace period runs out. */
  graceTimer: TimerHandle | undefined;
  /** A player admitted with a token for one streamer may only subscribe to that one. */
  onlyStreamerId: string | undefined;
  /**
   * The identity of the token a player was admitted with (its `jti`, else its subject, else its
   * digest; see AccessPolicy): `limits.sessionsPerToken` counts the sessions of every player
   * that presented it. Undefined without a token (open mode). Kept across resumes.
   */
  tokenId: string | undefined;
  /**
   * A streamer whose heartbeat lapsed and that has not been heard since, not even by its
   * transport's own keepalive (its socket may still be open: a hung process). New sessions with
   * it are refused until it is heard again.
   */
  unresponsive = false;
  /** What the peer declared it can answer (handshake `features`); set on each (re)connect. */
  features: ReadonlySet<PeerFeature> = new Set();
  /** The probe sent to this peer and not answered yet (adaptive heartbeat detector). */
  probeId: string | undefined;

  constructor(
    /** Hub-issued, unique, kept across resumes. */
    readonly id: string,
    readonly role: Role,
    /** Set for streamers (validated at the handshake). */
    readonly streamerId: string | undefined,
    /** Secret the peer presents to resume (a new one after each resume); never logged. */
    public resumeToken: string,
    transport: PeerTransport,
    /** The hub node that holds this peer's socket; undefined: this node. */
    readonly node?: string,
    readonly protocol: WireProtocol = "heartline",
  ) {
    this.#transport = transport;
  }

  /** Held by another hub node. */
  get remote(): boolean {
    return this.node !== undefined;
  }

  /** The socket dropped and the peer may still come back. */
  get away(): boolean {
    return this.#transport === undefined;
  }

  /** Sends if the peer is reachable; messages to an away peer are dropped. */
  send(message: PeerMessage): void {
    this.#transport?.send(message);
  }

  /** Closes the peer's current socket, whatever its transport (nothing if it is away). */
  close(): void {
    this.#transport?.close();
  }

  /** Moves the peer to `transport`; returns the one it used until now, if any. */
  attach(transport: PeerTransport): PeerTransport | undefined {
    const previous = this.#transport;
    this.#transport = transport;
    return previous;
  }

  detach(): void {
    this.#transport = undefined;
  }

  /** Whether `transport` is the one this peer currently uses. */
  isUsing(transport: PeerTransport): boolean {
    return this.#transport === transport;
  }
}
