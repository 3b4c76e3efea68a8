/**
 * The agent as a Pixel Streaming streamer (a synthetic Unreal): the same encoder and the same
 * per-viewer werift PeerSession as the heartline agent, driven by Epic's signalling
 * (PsStreamerClient) instead of the hub's. One peer connection per `playerConnected{playerId}`;
 * each carries Unreal's data channel (`datachannel`, UeDataChannel) instead of heartline's media
 * heartbeat.
 *
 * This is the one place that decides when a player's session ends: `playerDisconnected`, a new
 * `playerConnected` for the same player (it renegotiates), a dead media path, or the signalling
 * socket closing (Unreal stops streaming to everyone then; players reconnect by themselves).
 */
import type { Logger } from "pino";
import {
  HandshakeError,
  type IceCandidateInit,
  type IceServer,
  type SessionCloseReason,
  type StreamerToHubMessage,
} from "@heartline/shared";
import { systemClock, type Clock } from "@heartline/shared/timing";
import type { AgentSession, AgentStatus, HubLinkState } from "../Agent.js";
import { Encoder, type EncoderUnavailableError } from "../media/Encoder.js";
import { encoderSettings } from "../media/encoderSettings.js";
import { PeerSession, type ChannelSessionOptions } from "../media/PeerSession.js";
import { SendStatsMeter } from "../media/SendStatsMeter.js";
import { psStreamerUrl, type AgentOptions } from "../options.js";
import { psOut, type PsIceServer, type PsInbound } from "./messages.js";
import { PsStreamerClient, type PsLinkState, type PsStreamerClientHandlers } from "./PsStreamerClient.js";
import { UeDataChannel } from "./UeDataChannel.js";

/** What PsStreamer needs of its signalling connection (a fake stands in for it in unit tests). */
export type PsConnection = Pick<
  PsStreamerClient,
  "start" | "send" | "close" | "state" | "retry" | "rttMs" | "streamerId"
>;

export interface PsStreamerDependencies {
  logger: Logger;
  clock?: Clock;
  /** Called if the agent cannot work at all (ffmpeg missing): the caller should exit. */
  onFatal: (error: EncoderUnavailableError) => void;
  /** Replaces the WebSocket client (unit tests). */
  createClient?: (handlers: PsStreamerClientHandlers) => PsConnection;
  /** Replaces the werift PeerSession (unit tests). */
  createSession?: (options: ChannelSessionOptions) => AgentSession;
}

const LINK_STATES: Record<PsLinkState, HubLinkState> = {
  connecting: "connecting",
  open: "connecting",
  identified: "connected",
  closed: "disconnected",
};

/** `a=ice-ufrag:` of an SDP: the `usernameFragment` Epic's peers put in every candidate. */
function iceUfrag(sdp: string): string | undefined {
  return /^a=ice-ufrag:(\S+)/m.exec(sdp)?.[1];
}

/** Config ICE servers as werift takes them (Unreal accepts the same shapes). */
function toIceServers(servers: readonly PsIceServer[]): IceServer[] {
  return servers.map((server) => ({
    urls: server.urls,
    ...(server.username !== undefined ? { username: server.username } : {}),
    ...(server.credential !== undefined ? { credential: server.credential } : {}),
  }));
}

export class PsStreamer {
  private readonly options: AgentOptions;
  private readonly logger: Logger;
  private readonly sessionLogger: Logger;
  private readonly clock: Clock;
  private readonly encoder: Encoder;
  private readonly sendStats: SendStatsMeter;
  private readonly client: PsConnection;
  private readonly createSession: (options: ChannelSessionOptions) => AgentSession;
  /** One session per player, by the server's `playerId`. */
  private readonly sessions = new Map<string, AgentSession>();
  /** `a=ice-ufrag` of each player's offer, for candidates werift sends without one. */
  private readonly ufrags = new Map<string, string>();
  /**
   * Candidates werift gathered before its offer went out (it gathers inside setLocalDescription).
   * Epic's frontend adds a candidate at once and fails on one that comes before the offer.
   */
  private readonly earlyCandidates = new Map<string, StreamerToHubMessage[]>();
  /** Players whose offer has gone out. */
  private readonly offered = new Set<string>();
  private iceServers: IceServer[] = [];
  private stopping = false;

  constructor(options: AgentOptions, dependencies: PsStreamerDependencies) {
    this.options = options;
    this.logger = dependencies.logger.child({ component: "agent" });
    this.sessionLogger = dependencies.logger.child({ component: "session" });
    this.clock = dependencies.clock ?? systemClock;
    this.sendStats = new SendStatsMeter({ clock: this.clock });
    this.encoder = new Encoder({
      settings: encoderSettings(options),
      logger: dependencies.logger.child({ component: "encoder" }),
      onPacket: (packet) => {
        this.sendStats.record(packet);
        for (const session of this.sessions.values()) session.writeRtp(packet);
      },
      onFatal: dependencies.onFatal,
      clock: this.clock,
    });
    this.createSession = dependencies.createSession ?? ((sessionOptions) => new PeerSession(sessionOptions));
    const handlers: PsStreamerClientHandlers = {
      onMessage: (message) => {
        this.handleMessage(message);
      },
      onIdentified: (committedId) => {
        // The line tests and operators wait for, as for the heartline protocol.
        this.logger.info({ streamerId: committedId, protocol: "pixelstreaming" }, "registered");
      },
      onDisconnected: ({ code, reason }) => {
        // Like Unreal: the server has forgotten our players; their pages reconnect and renegotiate.
        this.closeAllSessions("streamer-left", `signalling closed (${code}${reason ? ` ${reason}` : ""})`);
      },
    };
    this.client = dependencies.createClient
      ? dependencies.createClient(handlers)
      : new PsStreamerClient({
          url: psStreamerUrl(options.hub),
          streamerId: options.id,
          key: options.key,
          pingIntervalMs: options.psPingIntervalMs,
          reconnectMs: options.psReconnectMs,
          handlers,
          logger: dependencies.logger.child({ component: "signalling" }),
          logPingPong: options.logPingPong,
          clock: this.clock,
        });
  }

  /** Players with a live peer connection. */
  get playerIds(): string[] {
    return [...this.sessions.keys()];
  }

  status(): AgentStatus {
    const stats = this.sendStats.read();
    const retry = this.client.retry;
    const rttMs = this.client.rttMs;
    return {
      hub: LINK_STATES[this.client.state],
      hubUrl: psStreamerUrl(this.options.hub).replace(/\?.*$/, ""),
      retry: retry && {
        inMs: Math.max(0, retry.at - this.clock.now()),
        code: retry.code === "refused" ? HandshakeError.Unauthorized : retry.code,
      },
      sessions: [...this.sessions.keys()].map((playerId) => ({
        sessionId: playerId,
        rttMs,
        mediaRttMs: undefined,
      })),
      fps: stats?.fps,
      bitrateKbps: stats?.bitrateKbps,
    };
  }

  /** Starts the encoder (so a player's first frame is fast), then connects. */
  async start(): Promise<void> {
    await this.encoder.start();
    this.client.start();
  }

  /** Closes every peer connection, the signalling socket and ffmpeg. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.closeAllSessions("streamer-left", "agent stopping");
    this.client.close();
    await this.encoder.stop();
  }

  private handleMessage(
    message: Exclude<PsInbound, { type: "identify" | "endpointIdConfirm" | "ping" | "pong" }>,
  ): void {
    switch (message.type) {
      case "config":
        this.iceServers = toIceServers(message.peerConnectionOptions?.iceServers ?? []);
        this.logger.info({ iceServers: this.iceServers.length }, "signalling config");
        return;
      case "playerConnected":
        this.openSession(message.playerId);
        return;
      case "playerDisconnected":
        this.closeSession(message.playerId, "player-left");
        return;
      case "answer":
        this.withSession(message.playerId, "answer", (session) => session.applyAnswer(message.sdp));
        return;
      case "iceCandidate": {
        const { candidate } = message;
        const init: IceCandidateInit = {
          candidate: candidate.candidate,
          sdpMid: candidate.sdpMid,
          sdpMLineIndex: candidate.sdpMLineIndex,
        };
        this.withSession(message.playerId, "iceCandidate", (session) => session.addRemoteCandidate(init));
        return;
      }
    }
  }

  private openSession(playerId: string): void {
    if (this.stopping) return;
    // A player that subscribes again gets a fresh peer connection (Unreal does the same).
    if (this.sessions.has(playerId)) this.closeSession(playerId, "unsubscribed", "player subscribed again");
    this.logger.info({ playerId }, "player joined");
    const logger = this.sessionLogger.child({ playerId });
    const session = this.createSession({
      sessionId: playerId,
      codec: this.options.codec,
      iceServers: this.iceServers,
      loopbackOnly: this.options.loopbackOnly,
      send: (message) => {
        this.sendFromSession(playerId, message);
      },
      channel: new UeDataChannel({ logger }),
      onMediaTimeout: (detail) => {
        this.closeSession(playerId, "media-timeout", detail);
      },
      logger,
      clock: this.clock,
    });
    this.sessions.set(playerId, session);
    session.start().catch((error: unknown) => {
      logger.error({ err: error }, "could not create the offer; closing the player's session");
      this.closeSession(playerId, "media-timeout", "no offer");
    });
  }

  /** PeerSession speaks heartline's messages; they map one to one onto Pixel Streaming's. */
  private sendFromSession(playerId: string, message: StreamerToHubMessage): void {
    if (this.sessions.get(playerId)?.sessionId !== playerId) return;
    switch (message.type) {
      case "offer": {
        const ufrag = iceUfrag(message.sdp);
        if (ufrag !== undefined) this.ufrags.set(playerId, ufrag);
        this.client.send(psOut.offer(playerId, message.sdp));
        this.offered.add(playerId);
        const early = this.earlyCandidates.get(playerId) ?? [];
        this.earlyCandidates.delete(playerId);
        for (const candidate of early) this.sendFromSession(playerId, candidate);
        return;
      }
      case "iceCandidate": {
        if (!this.offered.has(playerId)) {
          const early = this.earlyCandidates.get(playerId) ?? [];
          early.push(message);
          this.earlyCandidates.set(playerId, early);
          return;
        }
        const { candidate } = message;
        this.client.send(
          psOut.iceCandidate(playerId, {
            candidate: candidate.candidate,
            sdpMid: candidate.sdpMid ?? "0",
            sdpMLineIndex: candidate.sdpMLineIndex ?? 0,
            usernameFragment: candidate.usernameFragment ?? this.ufrags.get(playerId) ?? "",
          }),
        );
        return;
      }
      default:
        // `endSession` (media dead) is handled by onMediaTimeout; PS has no such message.
        return;
    }
  }

  private withSession(
    playerId: string,
    what: string,
    action: (session: AgentSession) => Promise<void>,
  ): void {
    const session = this.sessions.get(playerId);
    if (!session) {
      this.logger.debug(
        { playerId, type: what },
        "message for a player this streamer does not have; ignored",
      );
      return;
    }
    action(session).catch((error: unknown) => {
      this.sessionLogger.warn({ err: error, playerId, type: what }, `could not apply the ${what}`);
    });
  }

  /** Releases the player's peer connection and logs the ending once. */
  private closeSession(playerId: string, reason: SessionCloseReason, detail?: string): void {
    const session = this.sessions.get(playerId);
    if (!session) return;
    this.sessions.delete(playerId);
    this.ufrags.delete(playerId);
    this.earlyCandidates.delete(playerId);
    this.offered.delete(playerId);
    session.close();
    this.logger.info({ sessionId: playerId, playerId, reason, detail }, "session closed");
  }

  private closeAllSessions(reason: SessionCloseReason, detail: string): void {
    for (const playerId of [...this.sessions.keys()]) this.closeSession(playerId, reason, detail);
  }
}
