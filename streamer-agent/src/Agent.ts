/**
 * The streamer agent: one encoder whose packets fan out to one PeerSession per hub session,
 * a Pinger driving each session's heartbeat, and the hub connection routing messages between
 * them. This is the one place that decides when a local session ends: when the hub says so
 * (`sessionClosed`), when the hub forgets it (`session-not-found`, or not listed in `resumed`),
 * when the media path dies and the hub does not answer `endSession`, or when the hub stays away
 * longer than it keeps sessions for a resume.
 *
 * A dropped hub connection alone ends nothing: the video flows peer to peer, so the sessions
 * wait (pings paused) for the reconnect and the hub's `resumed` list.
 */
import type { Logger } from "pino";
import {
  ErrorCode,
  PROTOCOL_VERSION,
  type ConfigMessage,
  type HubToStreamerMessage,
  type PongMessage,
  type ResumedMessage,
  type SessionCloseReason,
} from "@heartline/shared";
import { Pinger } from "./heartbeat/Pinger.js";
import { HubClient, type HubClientHandlers, type HubConnection } from "./hub/HubClient.js";
import { Encoder, type EncoderUnavailableError } from "./media/Encoder.js";
import { PeerSession, type PeerSessionOptions } from "./media/PeerSession.js";
import { SendStatsMeter } from "./media/SendStatsMeter.js";
import { encoderSettings } from "./media/encoderSettings.js";
import { playerUrl, type AgentOptions } from "./options.js";
import { systemClock, type Clock, type TimerHandle } from "@heartline/shared/timing";

/** What the agent needs of a session (a fake stands in for the werift PeerSession in unit tests). */
export type AgentSession = Pick<
  PeerSession,
  | "sessionId"
  | "start"
  | "applyAnswer"
  | "addRemoteCandidate"
  | "writeRtp"
  | "close"
  | "setHeartbeat"
  | "mediaRttMs"
  | "checkMedia"
>;

export interface AgentDependencies {
  logger: Logger;
  clock?: Clock;
  /** Called if the agent cannot work at all (ffmpeg missing): the caller should exit. */
  onFatal: (error: EncoderUnavailableError) => void;
  /** Replaces the socket.io HubClient (unit tests). */
  createHub?: (handlers: HubClientHandlers) => HubConnection;
  /** Replaces the werift PeerSession (unit tests). */
  createSession?: (options: PeerSessionOptions) => AgentSession;
}

/** Where the agent stands with the hub, for the status line. */
export type HubLinkState = "connecting" | "connected" | "resuming" | "disconnected";

/** A snapshot for the status line. */
export interface AgentStatus {
  hub: HubLinkState;
  hubUrl: string;
  /** While not connected: the next attempt, in ms from now, and why the last one failed. */
  retry?: { inMs: number; code: string } | undefined;
  sessions: { sessionId: string; rttMs: number | undefined; mediaRttMs: number | undefined }[];
  fps: number | undefined;
  bitrateKbps: number | undefined;
}

/** Past the hub's grace period, give the reconnect this much longer before giving up (clock skew, a slow handshake). */
const RESUME_MARGIN_MS = 1_000;
/** After reconnecting with sessions to resume, how long to wait for `resumed` (a hub without resume never sends it). */
const RESUMED_WAIT_MS = 2_000;
/** How long the hub has to answer `endSession` with `sessionClosed` before the session closes here anyway. */
const END_SESSION_ANSWER_MS = 2_000;
/**
 * The media heartbeat of a session opened before any `config`: cannot happen with our hub (it
 * sends `config` first), so only a safe placeholder; the next `config` replaces it.
 */
const HEARTBEAT_BEFORE_CONFIG = { intervalMs: 5_000, timeoutMs: 15_000 };
/**
 * How long a media check waits for the player to answer over the data channel: a live player
 * answers in milliseconds; long enough for a retransmission on a lossy path.
 */
const MEDIA_CHECK_WINDOW_MS = 800;

/** Sessions remembered as released-but-not-yet-logged. */
const MAX_UNLOGGED_DROPS = 1_000;

export class Agent {
  private readonly options: AgentOptions;
  private readonly logger: Logger;
  private readonly sessionLogger: Logger;
  private readonly heartbeatLogger: Logger;
  private readonly clock: Clock;
  private readonly hub: HubConnection;
  private readonly encoder: Encoder;
  private readonly sendStats: SendStatsMeter;
  private readonly pinger: Pinger;
  private readonly createSession: (options: PeerSessionOptions) => AgentSession;
  private readonly sessions = new Map<string, AgentSession>();
  /** Sessions whose media died: closed here if the hub does not end them first. */
  private readonly endingTimers = new Map<string, TimerHandle>();
  /** Sessions released without their `session closed` line yet; the hub's `sessionClosed` logs it. */
  private readonly droppedUnlogged = new Set<string>();
  /** The sessions we had when the hub connection dropped; the hub's `resumed` decides their fate. */
  private awaitingResume = new Set<string>();
  private hubConfig: ConfigMessage | undefined;
  private hubState: HubLinkState = "connecting";
  /** Runs while the hub is away: past it, the hub has closed our sessions. */
  private graceTimer: TimerHandle | undefined;
  /** Runs between a reconnect and the hub's `resumed`. */
  private resumedTimer: TimerHandle | undefined;
  private stopping = false;

  constructor(options: AgentOptions, dependencies: AgentDependencies) {
    this.options = options;
    this.logger = dependencies.logger.child({ component: "agent" });
    this.sessionLogger = dependencies.logger.child({ component: "session" });
    this.heartbeatLogger = dependencies.logger.child({ component: "heartbeat" });
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
    this.pinger = new Pinger({
      send: (ping) => {
        this.hub.send(ping);
        if (this.options.logPingPong) this.heartbeatLogger.info({ ...ping }, "ping");
      },
      onRtt: (sessionId, rttMs, pong: PongMessage) => {
        if (this.options.logPingPong)
          this.heartbeatLogger.info({ sessionId, rttMs, stats: pong.stats }, "pong");
      },
      extras: (sessionId) => ({
        mediaRttMs: this.sessions.get(sessionId)?.mediaRttMs,
        stats: this.sendStats.read(),
      }),
      clock: this.clock,
    });
    this.createSession = dependencies.createSession ?? ((sessionOptions) => new PeerSession(sessionOptions));
    const handlers: HubClientHandlers = {
      onRegistered: () => {
        this.handleRegistered();
      },
      onMessage: (message) => {
        this.handleMessage(message);
      },
      onDisconnected: (reason, resumable) => {
        this.handleDisconnected(reason, resumable);
      },
    };
    this.hub = dependencies.createHub
      ? dependencies.createHub(handlers)
      : new HubClient({
          hub: options.hub,
          streamerId: options.id,
          key: options.key,
          logger: dependencies.logger.child({ component: "hub" }),
          handlers,
          clock: this.clock,
        });
  }

  /** Sessions with a live peer connection, by session id. */
  get sessionIds(): string[] {
    return [...this.sessions.keys()];
  }

  /** A snapshot of the hub link, each session's RTTs and the encoder's send rate. */
  status(): AgentStatus {
    const stats = this.sendStats.read();
    const retry = this.hub.connected ? undefined : this.hub.retry;
    return {
      hub: this.hubState,
      hubUrl: this.options.hub,
      retry: retry && { inMs: Math.max(0, retry.at - this.clock.now()), code: retry.code },
      sessions: [...this.sessions.values()].map((session) => ({
        sessionId: session.sessionId,
        rttMs: this.pinger.rttOf(session.sessionId),
        mediaRttMs: session.mediaRttMs,
      })),
      fps: stats?.fps,
      bitrateKbps: stats?.bitrateKbps,
    };
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
    this.clearResumeTimers();
    this.pinger.clear();
    // The goodbye: the hub ends our sessions now, whatever happens to the socket's own close.
    this.hub.send({ type: "bye" });
    this.hub.close();
    await this.encoder.stop();
  }

  private handleRegistered(): void {
    this.logger.info({ streamerId: this.options.id, playerUrl: playerUrl(this.options) }, "registered");
    if (this.hubState === "disconnected" && this.awaitingResume.size > 0) {
      // Back within the grace period: the hub answers with `config` then `resumed`. Pings wait
      // for that list, so none goes out for a session the hub has already closed.
      this.hubState = "resuming";
      if (this.graceTimer !== undefined) this.clock.clearTimeout(this.graceTimer);
      this.graceTimer = undefined;
      this.resumedTimer = this.clock.setTimeout(() => {
        this.resumedTimer = undefined;
        this.logger.warn(
          { waitedMs: RESUMED_WAIT_MS },
          "the hub did not say which sessions resumed; closing them",
        );
        this.finishResume([]);
      }, RESUMED_WAIT_MS);
      return;
    }
    this.hubState = "connected";
    this.clearResumeTimers();
    this.pinger.resume();
  }

  private handleDisconnected(reason: string, resumable: boolean): void {
    if (this.stopping) return;
    this.hubState = "disconnected";
    this.pinger.pause();
    this.clearResumeTimers();
    const graceMs = this.hubConfig?.heartbeat.resumeGraceMs;
    if (!resumable || graceMs === undefined || graceMs === 0) {
      // Ended on purpose, or a hub that keeps nothing: our sessions are gone there already.
      this.closeAllSessions("streamer-left", "hub connection lost");
      return;
    }
    if (this.sessions.size === 0) return;
    this.awaitingResume = new Set(this.sessions.keys());
    const waitMs = graceMs + RESUME_MARGIN_MS;
    this.logger.info(
      { reason, sessions: this.sessions.size, resumeGraceMs: graceMs },
      "lost the hub connection; keeping the sessions for a resume",
    );
    this.graceTimer = this.clock.setTimeout(() => {
      this.graceTimer = undefined;
      this.awaitingResume = new Set();
      this.closeAllSessions("streamer-left", `hub connection lost for over ${waitMs} ms`);
    }, waitMs);
  }

  private handleMessage(message: HubToStreamerMessage): void {
    switch (message.type) {
      case "config":
        this.applyConfig(message);
        return;
      case "resumed":
        this.handleResumed(message);
        return;
      case "sessionState":
        this.logger.info(
          { sessionId: message.sessionId, state: message.state, late: message.late },
          "session state",
        );
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
      case "probe":
        // Answered here, in the message handler: a hung agent cannot answer, a slow link answers late.
        this.hub.send({ type: "probeAck", probeId: message.probeId });
        return;
      case "mediaCheck":
        this.answerMediaCheck(message.sessionId, message.checkId);
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
    // A live config change applies to both heartbeats of every session at once.
    this.pinger.setInterval(config.heartbeat.intervalMs);
    for (const session of this.sessions.values()) session.setHeartbeat(this.mediaHeartbeatSettings(config));
    this.logger.info(
      { peerId: config.peerId, heartbeat: config.heartbeat, iceServers: config.iceServers.length },
      "hub config",
    );
  }

  private handleResumed(message: ResumedMessage): void {
    if (this.hubState !== "resuming") {
      // A fresh connect (nothing was waiting): any session listed is one we no longer have.
      if (message.sessionIds.length > 0) {
        this.logger.warn(
          { sessionIds: message.sessionIds },
          "the hub resumed sessions this agent does not have",
        );
      }
      return;
    }
    this.finishResume(message.sessionIds);
  }

  /** Keeps exactly the sessions the hub resumed, closes the rest, and pings again. */
  private finishResume(resumedIds: readonly string[]): void {
    const listed = new Set(resumedIds);
    if (this.resumedTimer !== undefined) this.clock.clearTimeout(this.resumedTimer);
    this.resumedTimer = undefined;
    const kept: string[] = [];
    for (const sessionId of this.awaitingResume) {
      if (!this.sessions.has(sessionId)) continue; // Ended meanwhile (its media died).
      if (listed.has(sessionId)) kept.push(sessionId);
      else this.closeSession(sessionId, "streamer-left", "not resumed");
    }
    this.awaitingResume = new Set();
    const unknown = resumedIds.filter((sessionId) => !this.sessions.has(sessionId));
    this.logger.info(
      { sessionIds: kept, unknown: unknown.length > 0 ? unknown : undefined },
      "sessions resumed",
    );
    this.hubState = "connected";
    this.pinger.resume();
  }

  private mediaHeartbeatSettings(config: ConfigMessage): { intervalMs: number; timeoutMs: number } {
    return { intervalMs: config.heartbeat.intervalMs, timeoutMs: config.heartbeat.timeoutMs };
  }

  private openSession(sessionId: string): void {
    this.logger.info({ sessionId }, "player joined");
    if (this.sessions.has(sessionId)) return;
    const logger = this.sessionLogger.child({ sessionId });
    // The hub always sends config on connect, before any player can join.
    const config = this.hubConfig;
    const session = this.createSession({
      sessionId,
      codec: this.options.codec,
      iceServers: config?.iceServers ?? [],
      loopbackOnly: this.options.loopbackOnly,
      send: (message) => this.hub.send(message),
      heartbeat: config ? this.mediaHeartbeatSettings(config) : HEARTBEAT_BEFORE_CONFIG,
      signalingRttMs: () => this.pinger.rttOf(sessionId),
      // Signaling is healthy while pongs come within the hub's stale threshold.
      signalingHealthy: () =>
        this.pinger.heardWithin(
          sessionId,
          this.hubConfig?.heartbeat.staleAfterMs ?? Number.POSITIVE_INFINITY,
        ),
      onMediaTimeout: () => {
        this.awaitEndSession(sessionId);
      },
      logger,
      clock: this.clock,
    });
    this.sessions.set(sessionId, session);
    this.pinger.add(sessionId);
    session.start().catch((error: unknown) => {
      // Without an offer the player can never connect. Stop pinging so the hub ends the session.
      logger.error({ err: error }, "could not create the offer; letting the hub time the session out");
      this.dropSession(sessionId);
    });
  }

  /**
   * The session asked the hub to end it (`endSession`, media-timeout). The hub's
   * `sessionClosed` normally closes it; if that does not come (hub away, older hub), close it here.
   */
  private awaitEndSession(sessionId: string): void {
    if (this.endingTimers.has(sessionId)) return;
    this.endingTimers.set(
      sessionId,
      this.clock.setTimeout(() => {
        this.endingTimers.delete(sessionId);
        if (!this.sessions.has(sessionId)) return;
        this.closeSession(sessionId, "media-timeout", "the hub did not answer endSession");
      }, END_SESSION_ANSWER_MS),
    );
  }

  /** Asks the player over the data channel and tells the hub whether anything came back. */
  private answerMediaCheck(sessionId: string, checkId: string): void {
    const session = this.sessions.get(sessionId);
    const intervalMs = this.hubConfig?.heartbeat.intervalMs ?? MEDIA_CHECK_WINDOW_MS;
    const checked = session
      ? session.checkMedia(Math.min(MEDIA_CHECK_WINDOW_MS, intervalMs))
      : Promise.resolve(false);
    void checked.then((flowing) => {
      this.heartbeatLogger.debug({ sessionId, flowing }, "media check answered");
      this.hub.send({ type: "mediaReport", sessionId, checkId, flowing });
    });
  }

  private withSession(
    sessionId: string,
    what: string,
    action: (session: AgentSession) => Promise<void>,
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

  /**
   * The one log line end-to-end tests look for, exactly once per session: a session already
   * closed here (say on a media timeout the hub answered late) is not logged twice.
   */
  private closeSession(sessionId: string, reason: SessionCloseReason, detail?: string): void {
    if (!this.sessions.has(sessionId) && !this.droppedUnlogged.delete(sessionId)) return;
    this.dropSession(sessionId);
    this.droppedUnlogged.delete(sessionId);
    this.logger.info({ sessionId, reason, detail }, "session closed");
  }

  private closeAllSessions(reason: SessionCloseReason, detail: string): void {
    for (const sessionId of [...this.sessions.keys()]) this.closeSession(sessionId, reason, detail);
  }

  private clearResumeTimers(): void {
    this.awaitingResume = new Set();
    if (this.graceTimer !== undefined) this.clock.clearTimeout(this.graceTimer);
    if (this.resumedTimer !== undefined) this.clock.clearTimeout(this.resumedTimer);
    this.graceTimer = undefined;
    this.resumedTimer = undefined;
  }

  /** Releases the session's peer connection and stops its pings, without logging an ending. */
  private dropSession(sessionId: string): void {
    if (this.sessions.has(sessionId)) {
      this.droppedUnlogged.add(sessionId);
      // Bounded: the hub may never send `sessionClosed` for a session it had already forgotten.
      if (this.droppedUnlogged.size > MAX_UNLOGGED_DROPS) {
        for (const oldest of this.droppedUnlogged) {
          this.droppedUnlogged.delete(oldest);
          break;
        }
      }
    }
    this.pinger.remove(sessionId);
    const endingTimer = this.endingTimers.get(sessionId);
    if (endingTimer !== undefined) this.clock.clearTimeout(endingTimer);
    this.endingTimers.delete(sessionId);
    this.sessions.get(sessionId)?.close();
    this.sessions.delete(sessionId);
  }
}
