import type {
  ConfigMessage,
  ErrorMessage,
  HubToPlayerMessage,
  IceCandidateInit,
  MediaPing,
  OfferMessage,
  PlayerToHubMessage,
  ReceiveStats,
  ResumedMessage,
  SessionCloseReason,
  SessionEnd,
  SessionStartedMessage,
  SessionStateMessage,
} from "@heartline/shared";
import { Backoff, type BackoffOptions, type Clock, type TimerHandle } from "@heartline/shared/timing";
import type { Peer, PeerFactory } from "../peer/player-peer.js";
import type { VideoFigures } from "../peer/receive-stats.js";
import { chooseStreamer, type StreamerChoice, type StreamerEntry } from "./choose-streamer.js";

/** Where the player stands, as shown in the overlay and exposed to tests. */
export type LinkState =
  /** Socket connecting, or connected and waiting for the hub's `config`. */
  | "connecting"
  /** Connected; the wanted streamer is not live (or the viewer has to pick one). */
  | "waiting"
  /** Subscribed; waiting for the session, the offer or ICE/DTLS. */
  | "negotiating"
  /** The peer connection is up. */
  | "live"
  /** The peer connection is up but the hub says an end missed a heartbeat (`late` says which). */
  | "stale"
  /** The socket dropped mid-session; the video keeps playing peer-to-peer while the hub
   * connection retries and resumes the session with the `resumeToken`. */
  | "reconnecting"
  /** The hub closed the session (`closeReason` says why); recovery is pending. */
  | "ended"
  /** The socket to the hub is down; the connection retries with backoff. */
  | "offline"
  /** The hub refused this player's token or page origin (`refusal` says which); retried slowly. */
  | "refused";

/** The hub side as the session sees it: one way out. */
export interface HubLink {
  /** Sends a message; dropped while the socket is down (a stale pong or answer helps nobody). */
  send(message: PlayerToHubMessage): void;
}

/** Where the remote media goes. */
export interface VideoSink {
  show(stream: MediaStream): void;
  clear(): void;
}

export interface PlayerSessionOptions {
  link: HubLink;
  createPeer: PeerFactory;
  video: VideoSink;
  clock: Clock;
  /** The streamer named in `?streamer=`, or null to take the only one listed. */
  wantedStreamerId: string | null;
  /** Delays between resubscribes. Default: `new Backoff(RESUBSCRIBE_BACKOFF)`. */
  backoff?: Backoff;
  /** Called after every change of anything the overlay shows. */
  onChange?: () => void;
}

/**
 * How long to wait before resubscribing: sessions that end soon after starting (or never get
 * live) double the delay, 1 s up to 30 s, so a streamer that keeps failing is not hammered in a
 * hot loop.
 */
export const RESUBSCRIBE_BACKOFF = {
  initialMs: 1000,
  maxMs: 30_000,
  jitter: [1, 1],
} as const satisfies BackoffOptions;
/** A session live at least this long counts as healthy: the next resubscribe starts from 1 s again. */
export const STABLE_SESSION_MS = 10_000;

/** How often the cached receive stats (for `pong.stats` and display) are refreshed. */
export const STATS_SAMPLE_MS = 1000;
/** Slack on top of `heartbeat.resumeGraceMs` before giving up on resuming. */
export const RESUME_SLACK_MS = 1000;

/**
 * The player's one session with the hub: subscribes, answers the streamer's offer, answers pings,
 * and recovers when a session ends or the hub drops. It alone decides teardown (`teardown()`).
 */
export class PlayerSession {
  state: LinkState = "connecting";
  config: ConfigMessage | null = null;
  streamers: StreamerEntry[] = [];
  /** What the latest streamer list means for this player (picker, waiting, ...). */
  choice: StreamerChoice;
  sessionId: string | null = null;
  /** The streamer of the current (or last) session or subscription. */
  streamerId: string | null = null;
  closeReason: SessionCloseReason | null = null;
  /** A hub error or local failure about the current session, for the viewer. */
  notice: string | null = null;
  pingsReceived = 0;
  pongsSent = 0;
  /** `clock.now()` when the last ping of a session arrived. */
  lastPingAt: number | null = null;
  sessionsStarted = 0;
  /** `clock.now()` when the next resubscribe attempt is due, while one is scheduled. */
  retryAt: number | null = null;
  /** While the session is stale: the end that missed a heartbeat, if the hub said. */
  late: SessionEnd | null = null;
  /** While stale: the late end's connection to the hub dropped (it may come back), as the hub said. */
  lateAway = false;
  /** The streamer's measured signaling heartbeat RTT for this session (`ping.rttMs`). */
  heartbeatRttMs: number | null = null;
  /** The streamer's measured RTT over the media path (data-channel ping `rttMs`). */
  mediaRttMs: number | null = null;
  mediaPingsReceived = 0;
  /** Sessions kept across a socket drop (`resumed` listed ours). */
  resumes = 0;
  /** The latest inbound video figures, sampled every STATS_SAMPLE_MS; sent with each pong. */
  receiveStats: ReceiveStats | null = null;
  /** Display-only figures of the same sample: resolution, bitrate, codec. */
  videoFigures: VideoFigures | null = null;
  /** While `state` is "refused": the hub's handshake code (`unauthorized`, `origin-not-allowed`). */
  refusal: string | null = null;
  /**
   * No automatic resubscribe: an operator ended the session (`kicked`), so coming straight back
   * would undo that; or the hub said this player may not watch that streamer (`not-allowed`).
   * `retryNow()` (the viewer's Reconnect) lifts it.
   */
  paused = false;

  private readonly link: HubLink;
  private readonly createPeer: PeerFactory;
  private readonly video: VideoSink;
  private readonly clock: Clock;
  private readonly wanted: string | null;
  private readonly backoff: Backoff;
  private readonly onChange: () => void;
  private peer: Peer | null = null;
  /** The streamer asked for by a `subscribe` the hub has not answered yet. */
  private pendingSubscribe: string | null = null;
  /** Candidates that arrived before the offer. */
  private earlyCandidates: IceCandidateInit[] = [];
  private liveSince: number | null = null;
  private retryTimer: TimerHandle | null = null;
  private statsTimer: TimerHandle | null = null;
  /** Runs out the resume grace period while the socket is down mid-session. */
  private resumeTimer: TimerHandle | null = null;
  /** The socket is connected (whether or not its `config` arrived). */
  private hubUp = false;
  /** Connected, and the first `config` of this connection has not arrived yet. */
  private awaitingConfig = false;
  /** A `streamerList` arrived since the last connection's `config`. */
  private listFresh = false;
  /** The peer connection reached `connected` (and is not closed). */
  private mediaUp = false;

  constructor(options: PlayerSessionOptions) {
    this.link = options.link;
    this.createPeer = options.createPeer;
    this.video = options.video;
    this.clock = options.clock;
    this.wanted = options.wantedStreamerId;
    this.backoff = options.backoff ?? new Backoff(RESUBSCRIBE_BACKOFF);
    this.onChange = options.onChange ?? (() => undefined);
    this.choice = { kind: "wait", streamerId: this.wanted };
  }

  /** The current session's peer connection, or null. */
  get pc(): RTCPeerConnection | null {
    return this.peer?.pc ?? null;
  }

  /** The `resumeToken` of the last `config`, for the handshake of every reconnection. */
  get resumeToken(): string | null {
    return this.config?.resumeToken ?? null;
  }

  /** The socket (re)connected: wait for `config` (and `resumed`), then carry on or start over. */
  hubConnected(): void {
    this.hubUp = true;
    this.awaitingConfig = true;
    this.listFresh = false;
    this.refusal = null;
    if (this.state !== "reconnecting") {
      this.state = "connecting";
      this.notice = null;
    }
    this.onChange();
  }

  /**
   * The socket dropped. A session whose media is up keeps playing peer-to-peer while the hub
   * connection retries with the resume token; the hub keeps it for `resumeGraceMs`. Anything else
   * (no session, or one still negotiating: its answer may be lost) is dropped here.
   */
  hubDisconnected(): void {
    this.hubUp = false;
    this.awaitingConfig = false;
    this.cancelRetry();
    if (this.sessionId !== null && this.mediaUp) {
      this.state = "reconnecting";
      this.late = null;
      this.lateAway = false;
      this.startResumeTimer();
    } else {
      this.teardown();
      this.state = "offline";
    }
    this.onChange();
  }

  /**
   * The hub could not be reached, or refused the handshake; either way we keep retrying.
   * @param refusal the hub's handshake error code, or null if it was just unreachable.
   */
  hubUnreachable(refusal: string | null): void {
    this.hubUp = false;
    this.awaitingConfig = false;
    this.cancelRetry();
    // A failed reconnection attempt: the session may still be resumed within the grace period.
    if (this.state === "reconnecting" && refusal === null) {
      this.onChange();
      return;
    }
    this.teardown();
    this.state = "offline";
    this.refusal = null;
    this.notice =
      refusal === null
        ? null
        : refusal === "too-many-connections"
          ? "The hub has too many connections from this network right now."
          : `The hub refused this player (${refusal}).`;
    this.onChange();
  }

  /**
   * The hub refused this player's token or page origin. Nothing to resume: a new link is needed
   * (the connection still retries slowly, in case the operator fixes it on the hub's side).
   */
  hubRefused(refusal: string): void {
    this.hubUp = false;
    this.awaitingConfig = false;
    this.cancelRetry();
    this.teardown();
    this.state = "refused";
    this.refusal = refusal;
    this.notice = null;
    this.onChange();
  }

  /**
   * The viewer asked to try again now (the Reconnect button) while waiting or after an ending:
   * skips the pending delay and lifts the pause after a `kicked`. Reconnecting the socket itself
   * is the hub connection's business.
   */
  retryNow(): void {
    if (this.state !== "waiting" && this.state !== "ended") return;
    if (this.sessionId !== null || this.pendingSubscribe !== null) return;
    this.paused = false;
    this.backoff.reset();
    this.cancelRetry();
    this.link.send({ type: "listStreamers" });
    this.onChange();
  }

  /** One validated message from the hub. */
  handle(message: HubToPlayerMessage): void {
    switch (message.type) {
      case "ping":
        // Answered here and now, from the message handler, never from a timer: hidden tabs
        // throttle timers (to once a minute), but socket messages keep being delivered, so a
        // background tab keeps its session. The stats are the cached copy, never awaited here.
        if (message.sessionId !== this.sessionId) return;
        this.link.send(
          this.receiveStats === null
            ? { type: "pong", sessionId: message.sessionId, time: message.time }
            : { type: "pong", sessionId: message.sessionId, time: message.time, stats: this.receiveStats },
        );
        this.pongsSent += 1;
        this.pingsReceived += 1;
        this.lastPingAt = this.clock.now();
        if (message.rttMs !== undefined) this.heartbeatRttMs = message.rttMs;
        return; // display only; the overlay polls the age of the last ping
      case "config":
        this.configured(message);
        break;
      case "resumed":
        this.resumed(message);
        break;
      case "sessionState":
        this.sessionState(message);
        break;
      case "streamerList":
        this.streamers = message.streamers;
        this.listFresh = true;
        this.considerSubscribing();
        break;
      case "sessionStarted":
        this.sessionStarted(message);
        break;
      case "offer":
        this.offer(message);
        break;
      case "iceCandidate":
        if (message.sessionId !== this.sessionId) return;
        if (this.peer === null) this.earlyCandidates.push(message.candidate);
        else this.peer.addRemoteCandidate(message.candidate);
        return;
      case "sessionClosed":
        if (message.sessionId !== this.sessionId) return;
        this.ended(message.reason);
        break;
      case "error":
        this.hubError(message);
        break;
    }
    this.onChange();
  }

  /** The first `config` of a connection starts things; a later one is a live config change. */
  private configured(message: ConfigMessage): void {
    this.config = message;
    if (!this.awaitingConfig) return; // live change: shown from `config`, nothing restarts
    this.awaitingConfig = false;
    // Resuming: `resumed` follows and decides; otherwise start over.
    if (this.state !== "reconnecting") this.state = "waiting";
    this.link.send({ type: "listStreamers" });
  }

  private resumed(message: ResumedMessage): void {
    const kept = this.sessionId !== null && message.sessionIds.includes(this.sessionId);
    // Sessions the hub kept for us that we no longer have (given up while away): end them.
    for (const sessionId of message.sessionIds) {
      if (sessionId !== this.sessionId) this.link.send({ type: "unsubscribe", sessionId });
    }
    if (this.state !== "reconnecting") return;
    this.cancelResumeTimer();
    if (kept) {
      this.resumes += 1;
      this.state = "live";
      return;
    }
    // The hub closed our session while we were away: start over like after an ending.
    this.teardown();
    this.state = "waiting";
    this.notice = "The session was lost while the hub was unreachable.";
    if (this.listFresh) this.considerSubscribing(); // else the list `config` asked for decides
  }

  private sessionState(message: SessionStateMessage): void {
    if (message.sessionId !== this.sessionId) return;
    if (message.state === "stale") {
      this.late = message.late ?? null;
      this.lateAway = message.away === true;
      if (this.state === "live") this.state = "stale";
    } else {
      this.late = null;
      this.lateAway = false;
      if (this.state === "stale") this.state = "live";
    }
  }

  /** A ping on the data channel, already answered by the peer. */
  private mediaPing(sessionId: string, ping: MediaPing): void {
    if (sessionId !== this.sessionId) return;
    this.mediaPingsReceived += 1;
    if (ping.rttMs !== undefined) this.mediaRttMs = ping.rttMs;
    // The same figure `ping.rttMs` carries; it keeps coming while the socket is away.
    if (ping.signalingRttMs !== undefined) this.heartbeatRttMs = ping.signalingRttMs;
  }

  private considerSubscribing(): void {
    this.choice = chooseStreamer(this.streamers, this.wanted, this.streamerId);
    if (this.state === "connecting" || this.state === "offline" || this.state === "reconnecting") return;
    if (this.state === "refused" || this.paused) return;
    if (this.sessionId !== null || this.pendingSubscribe !== null) return;
    // While a retry is scheduled it asks for a fresh list itself when due.
    if (this.retryTimer !== null) return;
    if (this.choice.kind === "subscribe") {
      this.subscribe(this.choice.streamerId);
    } else if (this.state !== "ended") {
      // After an ending, keep showing why it ended until a new session starts.
      this.state = "waiting";
    }
  }

  private subscribe(streamerId: string): void {
    this.pendingSubscribe = streamerId;
    this.streamerId = streamerId;
    this.notice = null;
    this.state = "negotiating";
    this.link.send({ type: "subscribe", streamerId });
  }

  private sessionStarted(message: SessionStartedMessage): void {
    if (this.sessionId !== null) {
      // The hub thinks we hold two sessions; keep the one we have.
      console.warn("heartline: unexpected second session, unsubscribing", message.sessionId);
      this.link.send({ type: "unsubscribe", sessionId: message.sessionId });
      return;
    }
    this.pendingSubscribe = null;
    this.sessionId = message.sessionId;
    this.streamerId = message.streamerId;
    this.sessionsStarted += 1;
    this.lastPingAt = null;
    this.liveSince = null;
    this.notice = null;
    this.late = null;
    this.lateAway = false;
    this.heartbeatRttMs = null;
    this.mediaRttMs = null;
    this.receiveStats = null;
    this.videoFigures = null;
    this.state = "negotiating";
  }

  private offer(message: OfferMessage): void {
    const { sessionId } = message;
    if (sessionId !== this.sessionId || this.config === null) {
      console.warn("heartline: ignoring offer for another session", sessionId);
      return;
    }
    if (this.peer === null) {
      this.peer = this.createPeer(this.config.iceServers, {
        localCandidate: (candidate) => {
          if (this.sessionId === sessionId) this.link.send({ type: "iceCandidate", sessionId, candidate });
        },
        remoteStream: (stream) => {
          if (this.sessionId === sessionId) this.video.show(stream);
        },
        connectionStateChange: (state) => {
          this.peerStateChanged(sessionId, state);
        },
        mediaPing: (ping) => {
          this.mediaPing(sessionId, ping);
          this.onChange();
        },
      });
      this.scheduleStatsSample();
    }
    const answered = this.peer.answer(message.sdp);
    // Queued after the offer: a candidate needs the remote description to be set first.
    for (const candidate of this.earlyCandidates) this.peer.addRemoteCandidate(candidate);
    this.earlyCandidates = [];
    answered.then(
      (sdp) => {
        if (this.sessionId === sessionId) this.link.send({ type: "answer", sessionId, sdp });
      },
      (error: unknown) => {
        console.error("heartline: could not answer the streamer's offer", error);
        this.giveUpSession(sessionId, "Could not negotiate with the streamer.");
      },
    );
  }

  private peerStateChanged(sessionId: string, state: RTCPeerConnectionState): void {
    if (sessionId !== this.sessionId) return;
    if (state === "connected") {
      this.mediaUp = true;
      if (this.state === "negotiating") {
        this.state = this.late === null ? "live" : "stale";
        this.liveSince = this.clock.now();
        this.onChange();
      }
    } else if (state === "failed") {
      // Only `failed`: `disconnected` often recovers by itself.
      this.mediaUp = false;
      if (this.state === "reconnecting") {
        // Nobody to tell: drop it here; `resumed` will list it and we end it then.
        this.teardown();
        this.cancelResumeTimer();
        this.state = "offline";
        this.notice = "The video connection failed while the hub was unreachable.";
        this.onChange();
        return;
      }
      this.giveUpSession(sessionId, "The media connection failed.", true);
    }
  }

  /**
   * Asks the hub to end a session that cannot work; its `sessionClosed` triggers the retry.
   * @param mediaFailed the media path died: `endSession` (`media-timeout`), else `unsubscribe`.
   */
  private giveUpSession(sessionId: string, notice: string, mediaFailed = false): void {
    if (sessionId !== this.sessionId) return;
    this.notice = notice;
    this.link.send(
      mediaFailed
        ? { type: "endSession", sessionId, reason: "media-timeout" }
        : { type: "unsubscribe", sessionId },
    );
    this.onChange();
  }

  private ended(reason: SessionCloseReason): void {
    const liveMs = this.liveSince === null ? null : this.clock.now() - this.liveSince;
    this.teardown();
    this.closeReason = reason;
    // The reason already says it; a "media failed" notice of ours would repeat it.
    if (reason === "media-timeout") this.notice = null;
    this.state = "ended";
    if (reason === "kicked") {
      this.paused = true;
      return;
    }
    if (liveMs !== null && liveMs >= STABLE_SESSION_MS) this.backoff.reset();
    this.scheduleRetry(this.backoff.next());
  }

  private hubError(message: ErrorMessage): void {
    console.warn("heartline: hub error", message.code, message.message, message.sessionId ?? "");
    const refusedSubscribe = this.pendingSubscribe !== null ? this.describeSubscribeRefusal(message) : null;
    if (refusedSubscribe !== null) {
      this.pendingSubscribe = null;
      this.notice = refusedSubscribe;
      if (this.state !== "ended") this.state = "waiting";
      // Retrying cannot make a link valid for another streamer: wait for the viewer.
      if (message.code === "not-allowed") this.paused = true;
      else this.scheduleRetry(this.backoff.next());
    } else if (message.sessionId !== undefined && message.sessionId === this.sessionId) {
      this.notice = `Hub: ${message.message} (${message.code})`;
      if (message.code === "session-not-found") {
        // The hub no longer knows our session: drop it and start again.
        this.teardown();
        this.state = "waiting";
        this.scheduleRetry(this.backoff.next());
      }
    }
  }

  /** Plain words for a hub error refusing our `subscribe`, or null if it is about something else. */
  private describeSubscribeRefusal(message: ErrorMessage): string | null {
    const streamerId = this.pendingSubscribe ?? "";
    switch (message.code) {
      case "streamer-not-found":
        return `Streamer ${streamerId} is not live.`;
      case "streamer-full": {
        const players = this.streamers.find((s) => s.streamerId === streamerId)?.players;
        return players === undefined
          ? "This stream is full."
          : `This stream is full (${players} ${players === 1 ? "viewer" : "viewers"}).`;
      }
      case "too-many-subscriptions":
        return "This player already watches as many streams as the hub allows; close another player tab.";
      case "not-allowed":
        return `This link does not allow watching ${streamerId}. Ask the operator for a link to it.`;
      case "cluster-unavailable":
        return `Streamer ${streamerId} is on another hub that this hub cannot reach right now; retrying.`;
      default:
        return null;
    }
  }

  private scheduleRetry(delayMs: number): void {
    this.cancelRetry();
    this.retryAt = this.clock.now() + delayMs;
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = null;
      this.retryAt = null;
      // A fresh list: its answer decides whether (and to whom) to subscribe.
      this.link.send({ type: "listStreamers" });
      this.onChange();
    }, delayMs);
  }

  /** Refreshes `receiveStats` until teardown (display and pong only; throttling is harmless). */
  private scheduleStatsSample(): void {
    this.statsTimer = this.clock.setTimeout(() => {
      this.statsTimer = null;
      const peer = this.peer;
      if (peer === null) return;
      this.scheduleStatsSample();
      peer.readReceiveStats().then(
        (reading) => {
          if (this.peer !== peer || reading === null) return;
          this.receiveStats = reading.stats;
          this.videoFigures = reading.video;
        },
        (error: unknown) => {
          console.warn("heartline: getStats failed", error);
        },
      );
    }, STATS_SAMPLE_MS);
  }

  private startResumeTimer(): void {
    this.cancelResumeTimer();
    const graceMs = this.config?.heartbeat.resumeGraceMs ?? 0;
    this.resumeTimer = this.clock.setTimeout(() => {
      this.resumeTimer = null;
      if (this.state !== "reconnecting") return;
      this.teardown();
      if (this.hubUp) {
        // Connected, but no `resumed` came (a hub without resume): start over.
        this.state = "waiting";
        this.link.send({ type: "listStreamers" });
      } else {
        this.state = "offline";
      }
      this.onChange();
    }, graceMs + RESUME_SLACK_MS);
  }

  private cancelResumeTimer(): void {
    if (this.resumeTimer !== null) this.clock.clearTimeout(this.resumeTimer);
    this.resumeTimer = null;
  }

  private cancelRetry(): void {
    if (this.retryTimer !== null) this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.retryAt = null;
  }

  /** Drops the current session locally. Idempotent. */
  private teardown(): void {
    this.peer?.close();
    this.peer = null;
    this.video.clear();
    this.sessionId = null;
    this.pendingSubscribe = null;
    this.earlyCandidates = [];
    this.liveSince = null;
    this.mediaUp = false;
    this.late = null;
    this.lateAway = false;
    this.heartbeatRttMs = null;
    this.mediaRttMs = null;
    this.receiveStats = null;
    this.videoFigures = null;
    if (this.statsTimer !== null) this.clock.clearTimeout(this.statsTimer);
    this.statsTimer = null;
    this.cancelResumeTimer();
  }
}
