import type {
  ConfigMessage,
  ErrorMessage,
  HubToPlayerMessage,
  IceCandidateInit,
  OfferMessage,
  PlayerToHubMessage,
  SessionCloseReason,
  SessionStartedMessage,
} from "@heartline/shared";
import type { Peer, PeerFactory } from "../peer/player-peer.js";
import { chooseStreamer, type StreamerChoice, type StreamerEntry } from "./choose-streamer.js";
import type { Clock } from "./clock.js";
import { ResubscribeBackoff } from "./resubscribe-backoff.js";

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
  /** The hub closed the session (`closeReason` says why); recovery is pending. */
  | "ended"
  /** The socket to the hub is down; socket.io is reconnecting. */
  | "offline";

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
  backoff?: ResubscribeBackoff;
  /** Called after every change of anything the overlay shows. */
  onChange?: () => void;
}

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

  private readonly link: HubLink;
  private readonly createPeer: PeerFactory;
  private readonly video: VideoSink;
  private readonly clock: Clock;
  private readonly wanted: string | null;
  private readonly backoff: ResubscribeBackoff;
  private readonly onChange: () => void;
  private peer: Peer | null = null;
  /** The streamer asked for by a `subscribe` the hub has not answered yet. */
  private pendingSubscribe: string | null = null;
  /** Candidates that arrived before the offer. */
  private earlyCandidates: IceCandidateInit[] = [];
  private liveSince: number | null = null;
  private retryTimer: number | null = null;

  constructor(options: PlayerSessionOptions) {
    this.link = options.link;
    this.createPeer = options.createPeer;
    this.video = options.video;
    this.clock = options.clock;
    this.wanted = options.wantedStreamerId;
    this.backoff = options.backoff ?? new ResubscribeBackoff();
    this.onChange = options.onChange ?? (() => undefined);
    this.choice = { kind: "wait", streamerId: this.wanted };
  }

  /** The current session's peer connection, or null. */
  get pc(): RTCPeerConnection | null {
    return this.peer?.pc ?? null;
  }

  /** The socket (re)connected: wait for `config`, then start over. */
  hubConnected(): void {
    this.state = "connecting";
    this.notice = null;
    this.onChange();
  }

  /** The socket dropped: the hub ends our session on its side, so end it here too. */
  hubDisconnected(): void {
    this.teardown();
    this.cancelRetry();
    this.state = "offline";
    this.onChange();
  }

  /**
   * The hub could not be reached, or refused the handshake; either way we keep retrying.
   * @param refusal the hub's handshake error code, or null if it was just unreachable.
   */
  hubUnreachable(refusal: string | null): void {
    this.teardown();
    this.cancelRetry();
    this.state = "offline";
    this.notice = refusal === null ? null : `The hub refused this player (${refusal}).`;
    this.onChange();
  }

  /** One validated message from the hub. */
  handle(message: HubToPlayerMessage): void {
    switch (message.type) {
      case "ping":
        // Answered here and now, never from a timer: hidden tabs throttle timers.
        if (message.sessionId !== this.sessionId) return;
        this.link.send({ type: "pong", sessionId: message.sessionId, time: message.time });
        this.pongsSent += 1;
        this.pingsReceived += 1;
        this.lastPingAt = this.clock.now();
        return; // display only; the overlay polls the age of the last ping
      case "config":
        this.config = message;
        this.state = "waiting";
        this.link.send({ type: "listStreamers" });
        break;
      case "streamerList":
        this.streamers = message.streamers;
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

  private considerSubscribing(): void {
    this.choice = chooseStreamer(this.streamers, this.wanted, this.streamerId);
    if (this.state === "connecting" || this.state === "offline") return;
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
      });
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
    if (state === "connected" && this.state === "negotiating") {
      this.state = "live";
      this.liveSince = this.clock.now();
      this.onChange();
    } else if (state === "failed") {
      this.giveUpSession(sessionId, "The media connection failed.");
    }
  }

  /** Asks the hub to end a session that cannot work; its `sessionClosed` triggers the retry. */
  private giveUpSession(sessionId: string, notice: string): void {
    if (sessionId !== this.sessionId) return;
    this.notice = notice;
    this.link.send({ type: "unsubscribe", sessionId });
    this.onChange();
  }

  private ended(reason: SessionCloseReason): void {
    const liveMs = this.liveSince === null ? null : this.clock.now() - this.liveSince;
    this.teardown();
    this.closeReason = reason;
    this.state = "ended";
    this.scheduleRetry(this.backoff.attemptEnded(liveMs));
  }

  private hubError(message: ErrorMessage): void {
    console.warn("heartline: hub error", message.code, message.message, message.sessionId ?? "");
    if (message.code === "streamer-not-found" && this.pendingSubscribe !== null) {
      this.pendingSubscribe = null;
      this.notice = `Streamer ${this.streamerId ?? ""} is not live.`;
      if (this.state !== "ended") this.state = "waiting";
      this.scheduleRetry(this.backoff.attemptEnded(null));
    } else if (message.sessionId !== undefined && message.sessionId === this.sessionId) {
      this.notice = `Hub: ${message.message} (${message.code})`;
      if (message.code === "session-not-found") {
        // The hub no longer knows our session: drop it and start again.
        this.teardown();
        this.state = "waiting";
        this.scheduleRetry(this.backoff.attemptEnded(null));
      }
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
  }
}
