/**
 * A Pixel Streaming player (Epic's frontend) as a heartline peer. Its transport translates what
 * the sessions layer says into what Epic's frontend understands, and nothing else reaches it:
 *
 * - `config` is the first frame, written the moment the socket opens, and never again;
 * - `streamerList` only answers `listStreamers`, except for the one nudge below;
 * - relayed frames are written verbatim; the hub's own messages (sessionState, error, ...) are
 *   dropped; a session's end becomes a close code (closeCodes.ts).
 *
 * Heartbeat: the hub sends a JSON `ping` every `heartbeat.intervalMs` (the first after one
 * interval), which the frontend answers from its message handler, so a frozen tab stops
 * answering and its session ends as `player-heartbeat-timeout`. WebSocket pongs are not counted
 * in that mode: the browser answers them without the page.
 *
 * When its streamer drops, the player's socket is held for `pixelStreaming.streamerGraceMs`; if
 * the same id identifies again (on any node) the player gets one `streamerList` and re-subscribes
 * on a fresh peer connection by itself. Epic's frontend alone gives up after about 11 s.
 */
import type { Logger } from "pino";
import type { WebSocket } from "ws";
import { ErrorCode } from "@heartline/shared";
import {
  PsPlayerMessageSchema,
  isPsRelayed,
  ps,
  type PsFrame,
  type PsPlayerMessage,
} from "@heartline/shared/pixelstreaming";
import type { TimerHandle } from "@heartline/shared/timing";
import { refusePlayer, refuseStreamer, type Refusal } from "../sessions/admission.js";
import type { Peer, PeerMessage, PeerTransport } from "../sessions/Peer.js";
import { PsClose, playerEnding } from "./closeCodes.js";
import { onlySession, type PsContext } from "./context.js";
import { PsSocket } from "./PsSocket.js";

export class PsPlayer {
  readonly peer: Peer;
  readonly #ctx: PsContext;
  readonly #socket: PsSocket<typeof PsPlayerMessageSchema>;
  readonly #log: Logger;
  #pingTimer: TimerHandle | undefined;
  #ping: { time: number; sentAt: number } | undefined;
  /** The last round trip of the hub's ping, in ms. */
  rttMs: number | undefined;
  /** Waiting for this streamer to come back. */
  #held: { streamerId: string; timer: TimerHandle } | undefined;
  /** The streamer of the current session (from `sessionStarted`). */
  #streamerId: string | undefined;

  /** Returns undefined if the registry refused the peer (it never does for players). */
  constructor(ws: WebSocket, ctx: PsContext, onlyStreamerId: string | undefined, log: Logger) {
    this.#ctx = ctx;
    this.#socket = new PsSocket({
      ws,
      schema: PsPlayerMessageSchema,
      limits: () => ctx.config().limits,
      clock: ctx.clock,
      log,
      onMessage: (message) => {
        this.#onMessage(message);
      },
      onDrop: (why) => ctx.probe?.dropped("player", why),
      onStalled: () => ctx.probe?.stalledReader(),
    });
    const transport: PeerTransport = {
      send: (message) => {
        this.#deliver(message);
      },
      close: () => {
        this.#socket.close(PsClose.GoingAway, "disconnected by the hub");
      },
    };
    const peer = ctx.registry.addPeer("player", undefined, transport, "pixelstreaming");
    if (!peer) throw new Error("the registry refused a player");
    this.peer = peer;
    peer.onlyStreamerId = onlyStreamerId;
    this.#log = log.child({ peerId: peer.id });
    // First frame, before anything the player sent is read (trap T1).
    this.#socket.send(ps.config(ctx.peerConnectionOptions(peer)));
    this.#schedulePing();
    ws.on("pong", () => {
      if (ctx.config().pixelStreaming.playerPing === "ws") this.#answered(undefined);
    });
    ws.on("close", (code) => {
      this.#stop();
      this.#log.info({ code, sessions: peer.sessions.size }, "Pixel Streaming player disconnected");
      ctx.registry.removePeer(peer, "player-left");
    });
  }

  /** Whether this player waits for `streamerId` to come back. */
  get waitingFor(): string | undefined {
    return this.#held?.streamerId;
  }

  /** Streamers were (re)listed: a held player whose streamer is back gets one `streamerList`. */
  streamerBack(ids: string[]): void {
    const held = this.#held;
    if (!held || !ids.includes(held.streamerId)) return;
    this.#release();
    this.#log.info(
      { streamerId: held.streamerId },
      "streamer is back: nudging the held player to re-subscribe",
    );
    this.#socket.send(ps.streamerList(ids));
  }

  close(code: number, reason: string): void {
    this.#socket.close(code, reason);
  }

  #stop(): void {
    if (this.#pingTimer !== undefined) this.#ctx.clock.clearTimeout(this.#pingTimer);
    this.#pingTimer = undefined;
    this.#release();
  }

  #release(): void {
    if (this.#held) this.#ctx.clock.clearTimeout(this.#held.timer);
    this.#held = undefined;
  }

  #schedulePing(): void {
    const { intervalMs } = this.#ctx.registry.settings;
    this.#pingTimer = this.#ctx.clock.setTimeout(() => {
      this.#sendPing();
      this.#schedulePing();
    }, intervalMs);
  }

  #sendPing(): void {
    const mode = this.#ctx.config().pixelStreaming.playerPing;
    if (mode === "off" || !this.#socket.open) return;
    const session = onlySession(this.peer);
    if (mode === "json") {
      const time = Date.now();
      this.#ping = { time, sentAt: this.#ctx.clock.now() };
      this.#socket.send(ps.ping(time));
    } else {
      this.#ping = { time: 0, sentAt: this.#ctx.clock.now() };
      this.#socket.ws.ping();
    }
    // From now on the player owes an answer.
    if (session) this.#ctx.registry.pingRelayed(session);
    if (session && this.#ctx.config().heartbeat.logPingPong)
      this.#log.info({ sessionId: session.id }, "ping sent to a Pixel Streaming player");
  }

  /** The player answered the hub's ping (`time` for JSON pongs). */
  #answered(time: number | undefined): void {
    const ping = this.#ping;
    if (!ping || (time !== undefined && time !== ping.time)) return;
    this.#ping = undefined;
    this.rttMs = this.#ctx.clock.now() - ping.sentAt;
    const session = onlySession(this.peer);
    if (!session) return;
    this.#ctx.registry.heard(session, "player");
    this.#ctx.registry.pongRelayed(session);
    const rttMs = Math.round(this.rttMs + (this.#ctx.streamerRtt(session.streamer) ?? 0));
    session.heartbeat.rttMs = rttMs;
    this.#ctx.probe?.heartbeatRtt(session, rttMs);
  }

  #deliver(message: PeerMessage): void {
    switch (message.type) {
      case "ps":
        this.#socket.send(message.frame);
        return;
      case "sessionStarted":
        this.#streamerId = message.streamerId;
        return;
      case "sessionClosed": {
        const ending = playerEnding(message.reason);
        if (ending.action === "close") {
          this.#socket.close(ending.code, ending.reason);
        } else if (ending.action === "hold" && this.#streamerId !== undefined) {
          this.#hold(this.#streamerId);
        }
        this.#streamerId = undefined;
        return;
      }
      default:
        // The hub's own messages have no Pixel Streaming form; nothing else reaches the page.
        return;
    }
  }

  #hold(streamerId: string): void {
    this.#release();
    const graceMs = this.#ctx.config().pixelStreaming.streamerGraceMs;
    this.#log.info({ streamerId, graceMs }, "streamer gone: holding the player for its return");
    const timer = this.#ctx.clock.setTimeout(() => {
      this.#held = undefined;
      this.#socket.close(PsClose.SessionEnded, "streamer-left");
    }, graceMs);
    this.#held = { streamerId, timer };
  }

  #onMessage(message: PsPlayerMessage): void {
    const session = onlySession(this.peer);
    if (session) this.#ctx.registry.heard(session, "player");
    switch (message.type) {
      case "listStreamers":
        this.#socket.send(ps.streamerList(this.#ctx.streamerIds()));
        return;
      case "subscribe":
        this.#subscribe(message.streamerId);
        return;
      case "unsubscribe":
        if (session) this.#ctx.registry.close(session, "unsubscribed");
        return;
      case "ping":
        // Hop by hop: answered here, never relayed.
        this.#socket.send(ps.pong(message.time ?? 0));
        return;
      case "pong":
        this.#answered(message.time ?? 0);
        return;
      default:
        if (!isPsRelayed("player", message.type) || !session) return;
        // The hub names the sender: whatever `playerId` the page wrote is replaced.
        this.#relay(session, { ...message, playerId: this.peer.id });
    }
  }

  #relay(session: NonNullable<ReturnType<typeof onlySession>>, frame: PsFrame): void {
    const outcome = this.#ctx.relay.relay(session, "player", { type: "ps", sessionId: session.id, frame });
    if (outcome === "delivered") this.#ctx.probe?.relayed("player");
    else if (outcome === "unreachable")
      this.#log.warn({ sessionId: session.id }, "relay dropped: the streamer's hub node is unreachable");
  }

  #subscribe(streamerId: string): void {
    const { registry } = this.#ctx;
    const current = onlySession(this.peer);
    // A re-subscribe leaves the current session first: the old streamer hears playerDisconnected.
    if (current) registry.close(current, "unsubscribed");
    this.#release();
    const config = this.#ctx.config();
    const local = registry.streamer(streamerId);
    const refusal =
      refusePlayer(this.peer, streamerId, 1) ??
      (this.#ctx.crossNode && !local
        ? undefined
        : refuseStreamer(local, streamerId, "pixelstreaming", config.maxPlayers));
    if (refusal) {
      this.#refuse(streamerId, refusal);
      return;
    }
    if (local) {
      registry.open(local, this.peer);
      return;
    }
    this.#ctx.crossNode?.subscribeRemote(this.peer, streamerId).then(
      (result) => {
        if (!result.ok) this.#refuse(streamerId, result);
      },
      (error: unknown) => {
        this.#log.error({ err: error, streamerId }, "cross-node subscribe failed");
        this.#socket.close(PsClose.TryAgainLater, "the hub failed to open this session");
      },
    );
  }

  /** Heartline's refusal in the words and form Epic's frontend expects. */
  #refuse(streamerId: string, refusal: Refusal): void {
    this.#log.info({ streamerId, code: refusal.code }, "Pixel Streaming subscribe refused");
    switch (refusal.code) {
      case ErrorCode.StreamerNotFound:
        this.#socket.send(ps.subscribeFailed(`Streamer ${streamerId} does not exist.`));
        return;
      case ErrorCode.StreamerFull:
        this.#socket.send(
          ps.subscribeFailed(
            `Streamer ${streamerId} is full. Max players = ${this.#ctx.config().maxPlayers}.`,
          ),
        );
        return;
      case ErrorCode.ClusterUnavailable:
        // Transient: the frontend reconnects by itself 2 s after any close but 1001.
        this.#socket.close(PsClose.TryAgainLater, "cluster-unavailable: try again");
        return;
      default:
        this.#socket.send(ps.subscribeFailed(refusal.message));
    }
  }
}
