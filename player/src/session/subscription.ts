import type {
  IceCandidateInit,
  IceServer,
  MediaPing,
  PlayerToHubMessage,
  ReceiveStats,
  SessionEnd,
} from "@heartline/shared";
import type { Clock, TimerHandle } from "@heartline/shared/timing";
import type { Peer, PeerFactory } from "../peer/player-peer.js";
import type { VideoFigures } from "../peer/receive-stats.js";

/** How often the cached receive stats (for `pong.stats` and display) are refreshed. */
export const STATS_SAMPLE_MS = 1000;

/** A media check ignores what arrives this soon after it is asked: it may have been in flight. */
export const MEDIA_CHECK_DRAIN_MS = 400;

/** How long a media check watches for frames or data-channel pings from the streamer. */
export const MEDIA_CHECK_WINDOW_MS = 250;

/** What one session measured and was told; all of it goes with the subscription. */
export interface SessionFigures {
  /** While the session is stale: the end that missed a heartbeat, if the hub said. */
  readonly late: SessionEnd | null;
  /** While stale: the late end's connection to the hub dropped (it may come back), as the hub said. */
  readonly lateAway: boolean;
  /** The streamer's measured signaling heartbeat RTT for this session (`ping.rttMs`). */
  readonly heartbeatRttMs: number | null;
  /** The streamer's measured RTT over the media path (data-channel ping `rttMs`). */
  readonly mediaRttMs: number | null;
  /** The latest inbound video figures, sampled every STATS_SAMPLE_MS; sent with each pong. */
  readonly receiveStats: ReceiveStats | null;
  /** Display-only figures of the same sample: resolution, bitrate, codec. */
  readonly videoFigures: VideoFigures | null;
}

export const NO_FIGURES: SessionFigures = Object.freeze({
  late: null,
  lateAway: false,
  heartbeatRttMs: null,
  mediaRttMs: null,
  receiveStats: null,
  videoFigures: null,
});

/** What a subscription reports to the session that owns it. Never called once it is closed. */
export interface SubscriptionEvents {
  send(message: PlayerToHubMessage): void;
  remoteStream(stream: MediaStream): void;
  peerState(state: RTCPeerConnectionState): void;
  /** The streamer's offer could not be answered. */
  answerFailed(error: unknown): void;
  /** A media ping arrived (already answered), or a stats sample was taken. */
  figuresChanged(kind: "media-ping" | "stats"): void;
}

export interface SubscriptionOptions {
  streamerId: string;
  clock: Clock;
  createPeer: PeerFactory;
  events: SubscriptionEvents;
}

/**
 * One attempt to watch one streamer: from our `subscribe` (or the hub's `sessionStarted`) until
 * it ends. It owns everything that belongs to that attempt, so dropping it is one call,
 * `close()`, and a callback of a previous attempt can never touch the next one.
 */
export class Subscription {
  readonly streamerId: string;
  readonly #clock: Clock;
  readonly #createPeer: PeerFactory;
  readonly #events: SubscriptionEvents;
  #sessionId: string | null = null;
  #peer: Peer | null = null;
  /** Candidates that arrived before the offer. */
  #earlyCandidates: IceCandidateInit[] = [];
  #liveSince: number | null = null;
  /** The peer connection reached `connected` (and is not closed). */
  #mediaUp = false;
  #statsTimer: TimerHandle | null = null;
  #figures: SessionFigures = NO_FIGURES;
  #closed = false;
  /** Data-channel pings received (media checks count them). */
  #mediaPings = 0;

  constructor(options: SubscriptionOptions) {
    this.streamerId = options.streamerId;
    this.#clock = options.clock;
    this.#createPeer = options.createPeer;
    this.#events = options.events;
  }

  /** The hub's id for this session, or null while our `subscribe` is unanswered. */
  get sessionId(): string | null {
    return this.#sessionId;
  }

  get pc(): RTCPeerConnection | null {
    return this.#peer?.pc ?? null;
  }

  get mediaUp(): boolean {
    return this.#mediaUp;
  }

  /** `clock.now()` when the media came up, or null. */
  get liveSince(): number | null {
    return this.#liveSince;
  }

  get figures(): SessionFigures {
    return this.#figures;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The hub's `sessionStarted`. */
  started(sessionId: string): void {
    this.#sessionId = sessionId;
  }

  /** The streamer's offer: answered on this attempt's peer connection (made on the first offer). */
  offer(sdp: string, iceServers: IceServer[]): void {
    const sessionId = this.#sessionId;
    if (this.#closed || sessionId === null) return;
    if (this.#peer === null) {
      this.#peer = this.#createPeer(iceServers, {
        localCandidate: (candidate) => {
          if (!this.#closed) this.#events.send({ type: "iceCandidate", sessionId, candidate });
        },
        remoteStream: (stream) => {
          if (!this.#closed) this.#events.remoteStream(stream);
        },
        connectionStateChange: (state) => {
          if (this.#closed) return;
          if (state === "connected") {
            this.#mediaUp = true;
            this.#liveSince ??= this.#clock.now();
          } else if (state === "failed") {
            this.#mediaUp = false;
          }
          this.#events.peerState(state);
        },
        mediaPing: (ping) => {
          this.#mediaPing(ping);
        },
      });
      this.#scheduleStatsSample();
    }
    const peer = this.#peer;
    const answered = peer.answer(sdp);
    // Queued after the offer: a candidate needs the remote description to be set first.
    for (const candidate of this.#earlyCandidates) peer.addRemoteCandidate(candidate);
    this.#earlyCandidates = [];
    answered.then(
      (answer) => {
        if (!this.#closed) this.#events.send({ type: "answer", sessionId, sdp: answer });
      },
      (error: unknown) => {
        if (!this.#closed) this.#events.answerFailed(error);
      },
    );
  }

  /** A trickled candidate from the streamer; kept until the offer if it came first. */
  remoteCandidate(candidate: IceCandidateInit): void {
    if (this.#closed) return;
    if (this.#peer === null) this.#earlyCandidates.push(candidate);
    else this.#peer.addRemoteCandidate(candidate);
  }

  /** The hub's `sessionState`: stale (with the late end) or live again. */
  setLate(late: SessionEnd | null, away: boolean): void {
    this.#figures = { ...this.#figures, late, lateAway: away };
  }

  /** A signaling `ping` carried the streamer's RTT. */
  setHeartbeatRtt(rttMs: number): void {
    this.#figures = { ...this.#figures, heartbeatRttMs: rttMs };
  }

  /**
   * The hub's `mediaCheck`: does media from the streamer still arrive? True if a data-channel
   * ping or new RTP bytes arrive within the window (after `MEDIA_CHECK_DRAIN_MS`, for packets
   * that were in flight). Bytes, not decoded frames: Chromium has been seen decoding frames from
   * its jitter buffer 400-650 ms after the streamer was killed. Decoded frames count only where
   * the browser reports no `bytesReceived`.
   */
  async checkMedia(): Promise<boolean> {
    const peer = this.#peer;
    if (peer === null || this.#closed) return false;
    const wait = (ms: number): Promise<void> =>
      new Promise((resolve) => {
        this.#clock.setTimeout(resolve, ms);
      });
    await wait(MEDIA_CHECK_DRAIN_MS);
    const pingsBefore = this.#mediaPings;
    const before = await peer.readReceiveStats();
    await wait(MEDIA_CHECK_WINDOW_MS);
    if (this.closed) return false; // closed while waiting
    const after = await peer.readReceiveStats();
    if (this.#mediaPings > pingsBefore) return true;
    if (before?.bytesReceived != null && after?.bytesReceived != null) {
      return after.bytesReceived > before.bytesReceived;
    }
    return (after?.stats.framesDecoded ?? 0) > (before?.stats.framesDecoded ?? 0);
  }

  /** Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#peer?.close();
    this.#peer = null;
    this.#earlyCandidates = [];
    this.#mediaUp = false;
    if (this.#statsTimer !== null) this.#clock.clearTimeout(this.#statsTimer);
    this.#statsTimer = null;
  }

  /** A ping on the data channel, already answered by the peer. */
  #mediaPing(ping: MediaPing): void {
    if (this.#closed) return;
    this.#mediaPings += 1;
    this.#figures = {
      ...this.#figures,
      ...(ping.rttMs === undefined ? {} : { mediaRttMs: ping.rttMs }),
      // The same figure `ping.rttMs` carries; it keeps coming while the socket is away.
      ...(ping.signalingRttMs === undefined ? {} : { heartbeatRttMs: ping.signalingRttMs }),
    };
    this.#events.figuresChanged("media-ping");
  }

  /** Refreshes the receive stats until closed (display and pong only; throttling is harmless). */
  #scheduleStatsSample(): void {
    this.#statsTimer = this.#clock.setTimeout(() => {
      this.#statsTimer = null;
      const peer = this.#peer;
      if (peer === null || this.#closed) return;
      this.#scheduleStatsSample();
      peer.readReceiveStats().then(
        (reading) => {
          if (this.#closed || reading === null) return;
          this.#figures = { ...this.#figures, receiveStats: reading.stats, videoFigures: reading.video };
          this.#events.figuresChanged("stats");
        },
        (error: unknown) => {
          console.warn("heartline: getStats failed", error);
        },
      );
    }, STATS_SAMPLE_MS);
  }
}
