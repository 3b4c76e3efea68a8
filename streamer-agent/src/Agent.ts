/**
 * The streamer agent: one encoder whose packets fan out to one PeerSession per hub session,
 * a Pinger driving each session's heartbeat, and the hub connection routing messages between
 * them. This is the one place that decides when a local session ends: when the hub says so
 * (`sessionClosed`), when the hub forgets it (`session-not-found`), or when the hub goes away.
 */
import type { Logger } from "pino";
import {
  ErrorCode,
  PROTOCOL_VERSION,
  type ConfigMessage,
  type HubToStreamerMessage,
  type SessionCloseReason,
} from "@heartline/shared";
import { Pinger } from "./heartbeat/Pinger.js";
import { HubClient } from "./hub/HubClient.js";
import { Encoder, type EncoderUnavailableError } from "./media/Encoder.js";
import { PeerSession } from "./media/PeerSession.js";
import { playerUrl, type AgentOptions } from "./options.js";
import type { Clock } from "./timing/clock.js";

export interface AgentDependencies {
  logger: Logger;
  clock?: Clock;
  /** Called if the agent cannot work at all (ffmpeg missing): the caller should exit. */
  onFatal: (error: EncoderUnavailableError) => void;
}

export class Agent {
  private readonly options: AgentOptions;
  private readonly logger: Logger;
  private readonly sessionLogger: Logger;
  private readonly heartbeatLogger: Logger;
  private readonly hub: HubClient;
  private readonly encoder: Encoder;
  private readonly pinger: Pinger;
  private readonly sessions = new Map<string, PeerSession>();
  private hubConfig: ConfigMessage | undefined;
  private stopping = false;

  constructor(options: AgentOptions, dependencies: AgentDependencies) {
    this.options = options;
    this.logger = dependencies.logger.child({ component: "agent" });
    this.sessionLogger = dependencies.logger.child({ component: "session" });
    this.heartbeatLogger = dependencies.logger.child({ component: "heartbeat" });
    this.encoder = new Encoder({
      settings: {
        codec: options.codec,
        width: options.width,
        height: options.height,
        fps: options.fps,
        bitrateKbps: options.bitrateKbps,
        keyframeIntervalFrames: options.keyframeIntervalFrames,
        label: options.id,
      },
      logger: dependencies.logger.child({ component: "encoder" }),
      onPacket: (packet) => {
        for (const session of this.sessions.values()) session.writeRtp(packet);
      },
      onFatal: dependencies.onFatal,
      ...(dependencies.clock ? { clock: dependencies.clock } : {}),
    });
    this.pinger = new Pinger({
      send: (ping) => {
        this.hub.send(ping);
        if (this.options.logPingPong) this.heartbeatLogger.info({ sessionId: ping.sessionId }, "ping");
      },
      onRtt: (sessionId, rttMs) => {
        if (this.options.logPingPong) this.heartbeatLogger.info({ sessionId, rttMs }, "pong");
      },
      ...(dependencies.clock ? { clock: dependencies.clock } : {}),
    });
    this.hub = new HubClient({
      hub: options.hub,
      streamerId: options.id,
      logger: dependencies.logger.child({ component: "hub" }),
      handlers: {
        onRegistered: () => {
          this.logger.info({ streamerId: options.id, playerUrl: playerUrl(options) }, "registered");
        },
        onMessage: (message) => {
          this.handleMessage(message);
        },
        onDisconnected: () => {
          this.closeAllSessions("streamer-left", "hub connection lost");
        },
      },
      ...(dependencies.clock ? { clock: dependencies.clock } : {}),
    });
  }

  /** Sessions with a live peer connection, by session id. */
  get sessionIds(): string[] {
    return [...this.sessions.keys()];
  }

  /** Starts the encoder (it runs whether or not anyone watches, so a player's first frame is fast), then connects. */
  async start(): Promise<void> {
    await this.encoder.start();
    this.hub.start();
  }

  /** Closes every session, disconnects from the hub and stops ffmpeg. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.closeAllSessions("streamer-left", "agent stopping");
    this.pinger.clear();
    this.hub.close();
    await this.encoder.stop();
  }

  private handleMessage(message: HubToStreamerMessage): void {
    switch (message.type) {
      case "config":
        this.applyConfig(message);
        return;
      case "playerJoined":
        this.openSession(message.sessionId);
        return;
      case "answer":
        this.withSession(message.sessionId, message.type, (session) => session.applyAnswer(message.sdp));
        return;
      case "iceCandidate":
        this.withSession(message.sessionId, message.type, (session) =>
          session.addRemoteCandidate(message.candidate),
        );
        return;
      case "pong":
        this.pinger.handlePong(message);
        return;
      case "sessionClosed":
        this.closeSession(message.sessionId, message.reason);
        return;
      case "error":
        this.logger.warn(
          { code: message.code, sessionId: message.sessionId, problem: message.message },
          "the hub refused a message",
        );
        // The hub no longer knows this session: stop streaming and pinging into the void.
        if (message.code === ErrorCode.SessionNotFound && message.sessionId !== undefined) {
          this.dropSession(message.sessionId);
        }
        return;
    }
  }

  private applyConfig(config: ConfigMessage): void {
    this.hubConfig = config;
    if (config.protocolVersion !== PROTOCOL_VERSION) {
      this.logger.warn(
        { hubProtocolVersion: config.protocolVersion, agentProtocolVersion: PROTOCOL_VERSION },
        "the hub speaks another protocol version; upgrade the older of hub and agent",
      );
    }
    this.pinger.setInterval(config.heartbeat.intervalMs);
    this.logger.info(
      { peerId: config.peerId, heartbeat: config.heartbeat, iceServers: config.iceServers.length },
      "hub config",
    );
  }

  private openSession(sessionId: string): void {
    this.logger.info({ sessionId }, "player joined");
    if (this.sessions.has(sessionId)) return;
    const logger = this.sessionLogger.child({ sessionId });
    const session = new PeerSession({
      sessionId,
      codec: this.options.codec,
      // The hub always sends config on connect, before any player can join.
      iceServers: this.hubConfig?.iceServers ?? [],
      loopbackOnly: this.options.loopbackOnly,
      send: (message) => this.hub.send(message),
      logger,
    });
    this.sessions.set(sessionId, session);
    this.pinger.add(sessionId);
    session.start().catch((error: unknown) => {
      // Without an offer the player can never connect. Stop pinging so the hub ends the session.
      logger.error({ err: error }, "could not create the offer; letting the hub time the session out");
      this.dropSession(sessionId);
    });
  }

  private withSession(
    sessionId: string,
    what: string,
    action: (session: PeerSession) => Promise<void>,
  ): void {
    const session = this.sessions.get(sessionId);
    if (!session) {
      this.logger.debug({ sessionId, type: what }, "message for a session this agent does not have; ignored");
      return;
    }
    action(session).catch((error: unknown) => {
      this.sessionLogger.warn({ err: error, sessionId, type: what }, `could not apply the ${what}`);
    });
  }

  /** The hub ended the session: the one log line end-to-end tests look for. */
  private closeSession(sessionId: string, reason: SessionCloseReason): void {
    this.dropSession(sessionId);
    this.logger.info({ sessionId, reason }, "session closed");
  }

  private closeAllSessions(reason: SessionCloseReason, detail: string): void {
    for (const sessionId of [...this.sessions.keys()]) {
      this.dropSession(sessionId);
      this.logger.info({ sessionId, reason, detail }, "session closed");
    }
  }

  /** Releases the session's peer connection and stops its pings, without logging an ending. */
  private dropSession(sessionId: string): void {
    this.pinger.remove(sessionId);
    this.sessions.get(sessionId)?.close();
    this.sessions.delete(sessionId);
  }
}
