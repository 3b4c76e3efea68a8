/**
 * Sessions whose two ends are on two hub nodes. The node holding the player opens the session:
 * it asks the streamer's node (`open`), which admits it like a local subscribe (maxPlayers, the
 * streamer present) and answers before it tells its streamer, so the player's node knows the
 * session before the first relay arrives. From then on each node holds one end and a remote
 * Peer for the other:
 *
 * - a peer's message goes out through the remote Peer's transport (`relay`) and is validated
 *   again, with the shared schema, by the node that delivers it;
 * - each node judges its own end's heartbeat and says `late` when that end turns late or on
 *   time, so both peers see the same session state;
 * - whichever node ends the session says `close` with the reason, and the other ends its half;
 * - when a node is lost (its beats stopped: it died, or Redis is unreachable), every session
 *   shared with it ends here with `hub-link-lost`.
 */
import {
  ErrorCode,
  isRelayed,
  parsePlayerMessage,
  parseStreamerMessage,
  type SessionCloseReason,
} from "@heartline/shared";
import { parsePsRelayed } from "@heartline/shared/pixelstreaming";
import type { Logger } from "pino";
import { refusePlayer, refuseStreamer, streamerNotFound } from "../sessions/admission.js";
import type { Peer, PeerMessage, PeerTransport } from "../sessions/Peer.js";
import type { Session } from "../sessions/Session.js";
import type { SessionBridge, SessionRegistry } from "../sessions/SessionRegistry.js";
import type { Relayable, SessionRelay } from "../sessions/SessionRelay.js";
import type { CrossNode } from "../signaling/MessageRouter.js";
import { timingSafeEqual } from "node:crypto";
import {
  ClusterUnavailableError,
  tokenHash,
  type ClusterHandlers,
  type ClusterNode,
  type LocalStreamer,
  type OpenRequest,
  type OpenResult,
  type RemoteStreamer,
  type SessionRecord,
} from "./ClusterNode.js";

export interface RemoteSessionsOptions {
  cluster: ClusterNode;
  registry: SessionRegistry;
  relay: SessionRelay;
  /** The streamers on other nodes changed: tell this node's players. */
  remoteStreamersChanged(): void;
  /** The current `maxPlayers` (it may change while running). */
  maxPlayers(): number;
  /** The current `limits.subscriptionsPerPlayer`. */
  subscriptionsPerPlayer(): number;
  logger: Logger;
}

export class RemoteSessions implements ClusterHandlers, CrossNode {
  readonly #cluster: ClusterNode;
  readonly #registry: SessionRegistry;
  readonly #relay: SessionRelay;
  readonly #options: RemoteSessionsOptions;
  readonly #log: Logger;
  /** One transport per remote node: relays a peer's message to that node. */
  readonly #transports = new Map<string, PeerTransport>();

  constructor(options: RemoteSessionsOptions) {
    this.#cluster = options.cluster;
    this.#registry = options.registry;
    this.#relay = options.relay;
    this.#options = options;
    this.#log = options.logger;
    const bridge: SessionBridge = {
      started: (session) => {
        const record = this.#record(session);
        if (record) this.#cluster.sessionStarted(record);
        if (!session.streamer.remote) this.#cluster.viewersChanged();
      },
      late: (session, late) => {
        const to = session.remoteNode;
        if (to !== undefined) this.#cluster.send({ kind: "late", to, sessionId: session.id, late });
      },
      closed: (session, reason) => {
        const to = session.remoteNode;
        if (to !== undefined) this.#cluster.send({ kind: "close", to, sessionId: session.id, reason });
      },
      ended: (session) => {
        if (!session.player.remote) this.#cluster.sessionEnded(session.id);
        if (!session.streamer.remote) this.#cluster.viewersChanged();
      },
      streamersChanged: () => {
        this.#cluster.streamersChanged();
      },
    };
    this.#registry.bridge = bridge;
  }

  get linkUp(): boolean {
    return this.#cluster.linkUp;
  }

  /** Transports to other nodes (one per node this node shares a session with, or did). */
  get transportCount(): number {
    return this.#transports.size;
  }

  // ---- CrossNode: asked by signaling --------------------------------------------------------

  async claimStreamerId(
    streamerId: string,
    resumeToken?: string,
  ): Promise<{ ok: true } | { ok: false; heldBy: string }> {
    return this.#cluster.claimStreamer(streamerId, resumeToken);
  }

  remoteStreamers(): RemoteStreamer[] {
    return this.#cluster.remoteStreamers();
  }

  async subscribeRemote(player: Peer, streamerId: string): Promise<OpenResult> {
    let node: string | undefined;
    try {
      node = await this.#cluster.locateStreamer(streamerId);
    } catch (error) {
      if (!(error instanceof ClusterUnavailableError)) throw error;
      return {
        ok: false,
        code: ErrorCode.ClusterUnavailable,
        message: `streamer '${streamerId}' is not on this hub node, and this node cannot reach the cluster (Redis) to find it; try again in a few seconds`,
      };
    }
    if (node === undefined) {
      return {
        ok: false,
        code: ErrorCode.StreamerNotFound,
        message: `no streamer '${streamerId}' is connected`,
      };
    }
    // The lookup took a round trip: the player may have left or subscribed elsewhere meanwhile.
    if (player.away) return { ok: true };
    const refusal = refusePlayer(player, streamerId, this.#options.subscriptionsPerPlayer());
    if (refusal) return { ok: false, ...refusal };
    const streamer = this.#registry.remotePeer(
      node,
      `${streamerId}@${node}`,
      "streamer",
      streamerId,
      this.#transport(node),
      player.protocol,
    );
    const session = this.#registry.openPending(streamer, player);
    return new Promise((resolve) => {
      const request = {
        sessionId: session.id,
        streamerId,
        playerId: player.id,
        ...(player.protocol === "heartline" ? {} : { protocol: player.protocol }),
      };
      // Settled while `opened` is handled, before the relays that may follow it (ClusterNode).
      this.#cluster.requestOpen(node, request, (result) => {
        if (!result.ok) {
          // The player gets the refusal; nobody was told of the session.
          this.#registry.abandon(session);
        } else if (!this.#registry.confirm(session)) {
          this.#log.info(
            { sessionId: session.id },
            "cross-node session closed before the streamer's node accepted it",
          );
          if (!player.away) {
            // Nobody was told of it: a player still here would wait for it for ever.
            resolve({
              ok: false,
              code: ErrorCode.ClusterUnavailable,
              message: `the session with streamer '${streamerId}' ended while its hub node was opening it; try again`,
            });
            return;
          }
        }
        resolve(result);
      });
    });
  }

  // ---- ClusterHandlers: what other nodes say ------------------------------------------------

  open(from: string, request: OpenRequest): OpenResult {
    const streamer = this.#registry.streamer(request.streamerId);
    const protocol = request.protocol ?? "heartline";
    const refusal = refuseStreamer(streamer, request.streamerId, protocol, this.#options.maxPlayers());
    if (refusal || !streamer) return { ok: false, ...(refusal ?? streamerNotFound(request.streamerId)) };
    const player = this.#registry.remotePeer(
      from,
      request.playerId,
      "player",
      undefined,
      this.#transport(from),
      protocol,
    );
    this.#registry.open(streamer, player, request.sessionId);
    return { ok: true };
  }

  relay(from: string, sessionId: string, raw: unknown): void {
    const session = this.#registry.sharedWith(from, sessionId);
    const remoteEnd = session?.remoteEnd;
    if (!session || !remoteEnd) {
      // It crossed a close in flight; the other node already knows the session ended.
      this.#log.debug({ from, sessionId }, "relay for a session this node does not share with its sender");
      return;
    }
    const message = this.#parseRelay(session, remoteEnd, raw);
    if (!message) {
      // Another node validated it before relaying: this is a bug or a foreign node, not a peer.
      this.#log.warn({ from, sessionId }, "invalid relay dropped");
      return;
    }
    if (message.sessionId !== sessionId) {
      this.#log.warn({ from, sessionId }, "relay names another session; dropped");
      return;
    }
    this.#registry.heard(session, remoteEnd);
    this.#relay.record(session, message);
    this.#relay.deliver(session, remoteEnd === "streamer" ? "player" : "streamer", message);
  }

  /** A relay from the `from` end, validated as what that end's protocol may relay. */
  #parseRelay(session: Session, from: "streamer" | "player", raw: unknown): Relayable | undefined {
    if (session.streamer.protocol === "pixelstreaming") return parsePsRelayed(from, raw);
    if (from === "streamer") {
      const parsed = parseStreamerMessage(raw);
      return parsed.ok && isRelayed("streamer", parsed.message) ? parsed.message : undefined;
    }
    const parsed = parsePlayerMessage(raw);
    return parsed.ok && isRelayed("player", parsed.message) ? parsed.message : undefined;
  }

  late(from: string, sessionId: string, late: boolean): void {
    const session = this.#registry.sharedWith(from, sessionId);
    if (session) this.#registry.remoteLate(session, late);
  }

  close(from: string, sessionId: string, reason: SessionCloseReason): void {
    const session = this.#registry.sharedWith(from, sessionId);
    if (session) this.#registry.remoteClosed(session, reason);
  }

  release(from: string, streamerId: string, hash: string): boolean {
    const peer = this.#registry.streamerPeer(streamerId);
    if (!peer) return true; // nothing here holds it any more
    const expected = Buffer.from(tokenHash(peer.resumeToken), "hex");
    const presented = Buffer.from(hash, "hex");
    if (expected.length !== presented.length || !timingSafeEqual(expected, presented)) {
      this.#log.warn(
        { streamerId, node: from },
        "another node asked for a streamer with a wrong resume token",
      );
      return false;
    }
    this.#log.info({ streamerId, node: from }, "streamer moved to another node; ending it here");
    peer.close();
    this.#registry.removePeer(peer, "streamer-left");
    return true;
  }

  nodeLost(node: string): void {
    this.#registry.closeNode(node, "hub-link-lost");
    this.#transports.delete(node);
  }

  peerDropped(node: string): void {
    for (const session of [...this.#registry.sessions()]) {
      if (session.remoteNode !== node) continue;
      // An open of ours still pending is newer than this `lost`: the sender sends `opened` for an
      // open it saw before `lost`, and one node's envelopes arrive in order. So it had not seen
      // this open when it dropped everything; it answers it as a new session.
      if (session.state === "pending") continue;
      // `close`, not `remoteClosed`: the other node is told of each, so one it opened since ends there too.
      this.#registry.close(session, "hub-link-lost");
    }
  }

  remoteStreamersChanged(): void {
    this.#options.remoteStreamersChanged();
  }

  localStreamers(): LocalStreamer[] {
    const list: LocalStreamer[] = [];
    for (const peer of this.#registry.peers()) {
      if (peer.role === "streamer" && peer.streamerId !== undefined) {
        list.push({
          streamerId: peer.streamerId,
          players: peer.sessions.size,
          away: peer.away,
          protocol: peer.protocol,
        });
      }
    }
    return list;
  }

  localSessions(): SessionRecord[] {
    const records: SessionRecord[] = [];
    for (const session of this.#registry.sessions()) {
      const record = this.#record(session);
      if (record) records.push(record);
    }
    return records;
  }

  /** The record of a session whose player is on this node (that node writes it). */
  #record(session: Session): SessionRecord | undefined {
    if (session.player.remote) return undefined;
    return {
      sessionId: session.id,
      streamerId: session.streamerId,
      streamerNode: session.streamer.node ?? this.#cluster.nodeId,
      playerNode: this.#cluster.nodeId,
      startedAt: session.startedAtEpochMs,
    };
  }

  #transport(node: string): PeerTransport {
    let transport = this.#transports.get(node);
    if (!transport) {
      transport = {
        send: (message: PeerMessage) => {
          // Only peers' messages (which name their session) travel; the hub's own stay here.
          const sessionId = "sessionId" in message ? message.sessionId : undefined;
          if (sessionId === undefined) return;
          this.#cluster.send({ kind: "relay", to: node, sessionId, message });
        },
        // A peer on another node is that node's to close; its sessions here end through `close`.
        close: () => undefined,
      };
      this.#transports.set(node, transport);
    }
    return transport;
  }
}
