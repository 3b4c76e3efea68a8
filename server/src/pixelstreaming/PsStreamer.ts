/**
 * A Pixel Streaming streamer (Unreal, Epic's JSStreamer, heartline's agent) as a heartline peer.
 * It becomes a peer only when it names itself (`endpointId`), which it may do at any time and
 * more than once; until then it is not listed. Its transport turns session starts and ends into
 * `playerConnected` / `playerDisconnected` and writes relayed frames verbatim.
 *
 * Heartbeat: Unreal ignores JSON pings, so the hub sends WebSocket control pings every
 * `heartbeat.intervalMs`; their pongs (and any message) prove the streamer alive. A streamer
 * silent past the heartbeat timeout is cut off (its sessions end as `streamer-heartbeat-timeout`),
 * and Unreal reconnects every 2 s and identifies again.
 *
 * Ids follow heartline's rules (note §6.2): the id is made valid for heartline, a key bound to
 * one id forces it, and when the id is held by a Pixel Streaming streamer that is gone or silent
 * the holder is evicted, so a reconnecting Unreal keeps its id; a live holder makes the
 * newcomer take Wilbur's suffix (`id1`, `id2`, ...).
 */
import type { Logger } from "pino";
import type { WebSocket } from "ws";
import type { SessionCloseReason } from "@heartline/shared";
import {
  PsStreamerMessageSchema,
  isPsRelayed,
  ps,
  type PsStreamerMessage,
} from "@heartline/shared/pixelstreaming";
import type { TimerHandle } from "@heartline/shared/timing";
import type { Peer, PeerMessage, PeerTransport } from "../sessions/Peer.js";
import { PsClose } from "./closeCodes.js";
import type { PsContext } from "./context.js";
import { PsSocket } from "./PsSocket.js";
import { sanitizeStreamerId } from "./streamerId.js";

export interface PsStreamerOptions {
  /** Ids the streamer's key is bound to (undefined: any). */
  keyIds: string[] | undefined;
  /** Ends the holder of `streamerId` if it may be evicted (gone or silent); true if it did. */
  evict(streamerId: string): boolean;
  /** The streamer is a peer now, under `peer.streamerId`. */
  registered(peer: Peer): void;
  /** The streamer's peer is gone (it left, lapsed, was evicted or renamed itself). */
  left(peer: Peer): void;
}

export class PsStreamer {
  peer: Peer | undefined;
  readonly #ctx: PsContext;
  readonly #socket: PsSocket<typeof PsStreamerMessageSchema>;
  readonly #options: PsStreamerOptions;
  #log: Logger;
  readonly #transport: PeerTransport;
  #pingTimer: TimerHandle | undefined;
  #pingSentAt: number | undefined;
  /** Clock time of the last pong or message. */
  lastHeardAt: number;
  rttMs: number | undefined;
  /** Player ids of this streamer's sessions, kept to say `playerDisconnected` after they close. */
  readonly #players = new Map<string, string>();
  /** Frames that arrived while an `endpointId` was being decided (cluster claim); replayed after. */
  #queue: PsStreamerMessage[] | undefined;
  #lapsed = false;

  constructor(ws: WebSocket, ctx: PsContext, options: PsStreamerOptions, log: Logger) {
    this.#ctx = ctx;
    this.#options = options;
    this.#log = log;
    this.lastHeardAt = ctx.clock.now();
    this.#socket = new PsSocket({
      ws,
      schema: PsStreamerMessageSchema,
      limits: () => ctx.config().limits,
      clock: ctx.clock,
      log,
      onMessage: (message) => {
        this.#heard();
        if (this.#queue) this.#queue.push(message);
        else this.#onMessage(message);
      },
      onDrop: (why) => ctx.probe?.dropped("streamer", why),
      onStalled: () => ctx.probe?.stalledReader(),
    });
    this.#transport = {
      send: (message) => {
        this.#deliver(message);
      },
      close: () => {
        this.#socket.close(PsClose.GoingAway, "disconnected by the hub");
      },
    };
    // Wilbur's order: identify, then config.
    this.#socket.send(ps.identify());
    this.#socket.send(ps.config(ctx.peerConnectionOptions({ id: "streamer" })));
    this.#schedulePing();
    ws.on("pong", () => {
      if (this.#pingSentAt !== undefined) this.rttMs = ctx.clock.now() - this.#pingSentAt;
      this.#pingSentAt = undefined;
      this.#heard();
    });
    ws.on("close", (code) => {
      if (this.#pingTimer !== undefined) ctx.clock.clearTimeout(this.#pingTimer);
      this.#pingTimer = undefined;
      this.#log.info({ code, lapsed: this.#lapsed }, "Pixel Streaming streamer disconnected");
      this.#leave(this.#lapsed ? "streamer-heartbeat-timeout" : "streamer-left");
    });
  }

  get open(): boolean {
    return this.#socket.open;
  }

  /** Ends this streamer's sessions and socket so another may take its id. */
  evict(): void {
    this.#log.info(
      { streamerId: this.peer?.streamerId },
      "evicting a gone or silent streamer for a newcomer with its id",
    );
    this.#leave("streamer-left");
    this.#socket.terminate();
  }

  #leave(reason: SessionCloseReason): void {
    const peer = this.peer;
    this.peer = undefined;
    if (!peer) return;
    this.#options.left(peer);
    this.#ctx.registry.removePeer(peer, reason);
  }

  #heard(): void {
    this.lastHeardAt = this.#ctx.clock.now();
    if (this.peer) this.peer.unresponsive = false;
    if (this.peer) for (const session of this.peer.sessions) this.#ctx.registry.heard(session, "streamer");
  }

  #schedulePing(): void {
    const { intervalMs, timeoutMs } = this.#ctx.registry.settings;
    this.#pingTimer = this.#ctx.clock.setTimeout(() => {
      if (this.#ctx.clock.now() - this.lastHeardAt > timeoutMs) {
        this.#lapsed = true;
        this.#log.warn(
          { silentMs: Math.round(this.#ctx.clock.now() - this.lastHeardAt) },
          "Pixel Streaming streamer silent past the heartbeat timeout",
        );
        this.#leave("streamer-heartbeat-timeout");
        this.#socket.terminate();
        return;
      }
      if (this.#socket.open) {
        this.#pingSentAt = this.#ctx.clock.now();
        this.#socket.ws.ping();
      }
      this.#schedulePing();
    }, intervalMs);
  }

  #deliver(message: PeerMessage): void {
    const peer = this.peer;
    switch (message.type) {
      case "ps":
        this.#socket.send(message.frame);
        return;
      case "playerJoined": {
        const session = peer && this.#ctx.registry.sessionOf(peer, message.sessionId);
        if (!session) return;
        this.#players.set(session.id, session.player.id);
        this.#socket.send(ps.playerConnected(session.player.id));
        return;
      }
      case "sessionClosed": {
        const playerId = this.#players.get(message.sessionId);
        this.#players.delete(message.sessionId);
        if (message.reason === "streamer-heartbeat-timeout") {
          // The hub judged this streamer dead: cut it off; Unreal reconnects and identifies again.
          this.#lapsed = true;
          this.#socket.terminate();
        } else if (message.reason === "hub-shutdown") {
          this.#socket.close(PsClose.ServiceRestart, "hub-shutdown");
        } else if (playerId !== undefined && message.reason !== "streamer-left") {
          this.#socket.send(ps.playerDisconnected(playerId));
        }
        return;
      }
      default:
        return;
    }
  }

  #onMessage(message: PsStreamerMessage): void {
    switch (message.type) {
      case "endpointId":
        this.#identify(message.id);
        return;
      case "ping":
        this.#socket.send(ps.pong(message.time ?? 0));
        return;
      case "pong":
      case "layerPreference":
        return;
      case "disconnectPlayer": {
        const session = this.#sessionOf(message.playerId);
        if (!session) return;
        this.#log.info({ sessionId: session.id, reason: message.reason }, "streamer disconnected a player");
        this.#ctx.registry.close(session, "kicked");
        return;
      }
      default: {
        if (!isPsRelayed("streamer", message.type)) return;
        // Only to a player of this streamer's own sessions, whatever id it names (upstream #920).
        const session = this.#sessionOf(message.playerId);
        if (!session) {
          this.#log.debug(
            { type: message.type },
            "dropped a message for a player that is not this streamer's",
          );
          return;
        }
        const outcome = this.#ctx.relay.relay(session, "streamer", {
          type: "ps",
          sessionId: session.id,
          frame: message,
        });
        if (outcome === "delivered") this.#ctx.probe?.relayed("streamer");
      }
    }
  }

  #sessionOf(playerId: string) {
    if (!this.peer) return undefined;
    for (const session of this.peer.sessions) if (session.player.id === playerId) return session;
    return undefined;
  }

  #identify(requested: string): void {
    const { keyIds } = this.#options;
    let id = sanitizeStreamerId(requested);
    if (keyIds?.length === 1 && keyIds[0] !== undefined) id = keyIds[0];
    else if (keyIds && !keyIds.includes(id)) {
      this.#log.warn({ streamerId: id }, "streamer key does not open this id");
      this.#socket.close(PsClose.PolicyViolation, `this key may not stream as ${id}`);
      return;
    }
    if (this.peer?.streamerId === id) {
      this.#socket.send(ps.endpointIdConfirm(id));
      return;
    }
    // Naming itself anew: the sessions under the old name end.
    this.#leave("streamer-left");
    this.#queue = [];
    void this.#register(id)
      .then(
        (committed) => {
          if (committed === undefined) return;
          this.#log = this.#log.child({ streamerId: committed });
          this.#socket.send(ps.endpointIdConfirm(committed));
        },
        (error: unknown) => {
          this.#log.error({ err: error }, "could not register the streamer");
          this.#socket.close(PsClose.TryAgainLater, "the hub could not register this streamer");
        },
      )
      .finally(() => {
        const queued = this.#queue ?? [];
        this.#queue = undefined;
        for (const message of queued) this.#onMessage(message);
      });
  }

  /** Registers under `id` or the first free suffix of it; resolves to the committed id. */
  async #register(id: string): Promise<string | undefined> {
    const { registry, crossNode } = this.#ctx;
    for (let n = 0; n < 100; n += 1) {
      const candidate = n === 0 ? id : sanitizeStreamerId(`${id}${n}`);
      if (registry.isStreamerIdTaken(candidate) && !this.#options.evict(candidate)) continue;
      if (crossNode) {
        const claim = await crossNode.claimStreamerId(candidate);
        if (!claim.ok) continue;
      }
      if (!this.#socket.open) return undefined;
      const peer = registry.addPeer("streamer", candidate, this.#transport, "pixelstreaming");
      if (!peer) continue;
      this.peer = peer;
      this.#options.registered(peer);
      return candidate;
    }
    this.#socket.close(PsClose.PolicyViolation, "no free streamer id");
    return undefined;
  }
}
