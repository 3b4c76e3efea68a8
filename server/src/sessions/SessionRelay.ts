/**
 * Relaying, and the heartbeat bookkeeping that rides on it, for every wire protocol: a peer's
 * message for the other end of its session goes through `relay()`, which counts the sender as
 * heard, keeps the heartbeat figures the message carries, and delivers it to the other end, on
 * this node or through the cluster. Messages another node relayed here enter at `deliver()`.
 *
 * Transport-free: it only knows Peers and Sessions (the socket.io gateway and the Pixel
 * Streaming endpoint both call it).
 */
import type { RelayedMessage, SessionEnd } from "@heartline/shared";
import type { PsRelayFrame } from "@heartline/shared/pixelstreaming";
import type { Clock } from "@heartline/shared/timing";
import type { SessionRegistry } from "./SessionRegistry.js";
import type { Session } from "./Session.js";

export type Relayable = RelayedMessage | PsRelayFrame;

/** Monitoring hook: the streamer reported a session's heartbeat RTT. */
export interface RelayProbe {
  heartbeatRtt(session: Session, rttMs: number): void;
}

export interface SessionRelayOptions {
  registry: SessionRegistry;
  clock: Clock;
  /** Multi-node: whether this node reaches the other nodes now (undefined: a single node). */
  linkUp?: () => boolean;
  probe?: RelayProbe | undefined;
}

/**
 * `delivered`: handed to the other end (or dropped because that end is away); `unreachable`:
 * the other end is on a node this node cannot reach now; `unreachable-again`: the same, and the
 * sender was already told less than a second ago (say nothing, so a flood is not amplified).
 */
export type RelayOutcome = "delivered" | "unreachable" | "unreachable-again";

const OTHER_END: Record<SessionEnd, SessionEnd> = { streamer: "player", player: "streamer" };

export class SessionRelay {
  readonly #registry: SessionRegistry;
  readonly #clock: Clock;
  readonly #linkUp: (() => boolean) | undefined;
  readonly #probe: RelayProbe | undefined;

  constructor(options: SessionRelayOptions) {
    this.#registry = options.registry;
    this.#clock = options.clock;
    this.#linkUp = options.linkUp;
    this.#probe = options.probe;
  }

  /** A message from the `from` end of `session` (validated by the caller) for the other end. */
  relay(session: Session, from: SessionEnd, message: Relayable): RelayOutcome {
    this.#registry.heard(session, from, message.type === "ping" || message.type === "pong");
    if (from === "streamer" && message.type === "offer") session.offered = true;
    this.record(session, message);
    const to = OTHER_END[from];
    const { link } = session;
    if (link?.end === to && this.#linkUp?.() !== true) {
      const now = this.#clock.now();
      if (now - link.relayRefusedAt < 1000) return "unreachable-again";
      link.relayRefusedAt = now;
      return "unreachable";
    }
    this.deliver(session, to, message);
    return "delivered";
  }

  /** Keeps the heartbeat figures a ping or pong carries (on each node that sees it). */
  record(session: Session, message: Relayable): void {
    const data = session.heartbeat;
    if (message.type === "ping") {
      if (message.rttMs !== undefined) {
        data.rttMs = message.rttMs;
        this.#probe?.heartbeatRtt(session, message.rttMs);
      }
      if (message.mediaRttMs !== undefined) data.mediaRttMs = message.mediaRttMs;
      if (message.stats !== undefined) data.sendStats = message.stats;
    } else if (message.type === "pong" && message.stats !== undefined) {
      data.receiveStats = message.stats;
      if (session.noteFramesDecoded(message.stats.framesDecoded)) this.#registry.mediaChanged(session);
    }
  }

  /**
   * Delivers a peer's message to the `to` end of its session: to its socket here, or through the
   * cluster to the node that holds it. Also called for messages another node relayed here.
   */
  deliver(session: Session, to: SessionEnd, message: Relayable): void {
    const target = session.peerAt(to);
    // An away player cannot answer: it owes nothing until it is back.
    if (message.type === "ping" && !target.away) this.#registry.pingRelayed(session);
    // A pong made the round trip: the session is live (on both nodes, when it spans two).
    if (message.type === "pong") this.#registry.pongRelayed(session);
    target.send(message);
  }
}
