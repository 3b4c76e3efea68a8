import { systemClock, type Clock } from "@heartline/shared/timing";
import type {
  HeartlinePlayerEventMap,
  PlayerErrorDetail,
  SessionEndDetail,
  SessionStartDetail,
  StateChangeDetail,
  StatsDetail,
} from "./events.js";
import { createPlayerPeer, type PeerFactory } from "./peer/player-peer.js";
import { PlayerSession, type PlayerView } from "./session/player-session.js";
import { connectToHub, type HubConnection } from "./signaling/hub-connection.js";
import { VideoView } from "./video/video-view.js";
import { describeEnding, explainState, stateCode } from "./words/explain-state.js";

export interface PlayerOptions {
  /** The hub's URL (`https://hub.example.com`). Default: the page's own origin. */
  hub?: string | null;
  /** The streamer to watch. Default: the only one live (several: `view.choice` lists them). */
  streamer?: string | null;
  /** The player token an operator issued (`POST /api/player-token`); hubs not in open mode require one. */
  token?: string | null;
  /** The <video> to play into. Default: a new one appended to `container`. */
  video?: HTMLVideoElement;
  /** Where to put a new <video> when none is given; also what `enterFullscreen()` enlarges. */
  container?: HTMLElement;
  /** Connect at once. Default true; false waits for `connect()`. */
  autoConnect?: boolean;
  /** Timers and time. Default: the system clock (`performance.now()`). */
  clock?: Clock;
  /** Makes the peer connection. Default: a real RTCPeerConnection. */
  createPeer?: PeerFactory;
}

/** The player's view plus what lives outside the session: the video and the hub schedule. */
export interface HeartlinePlayerView extends PlayerView {
  /** `clock.now()` when the current stream showed its first frame, or null. */
  readonly firstFrameAt: number | null;
  /** `clock.now()` when the next attempt to reach the hub is due, or null. */
  readonly hubRetryAt: number | null;
  readonly muted: boolean;
}

/** Safari on iPhone has no element fullscreen, only the video's own. */
interface WebkitVideo {
  webkitEnterFullscreen?: () => void;
}

/**
 * The heartline player: connects to a hub, watches a streamer, answers the heartbeat, recovers
 * by itself, and tells the page what happens as typed events (`HeartlinePlayerEventMap`).
 * `<heartline-player>` and the hub's own page are both built on it.
 */
export class HeartlinePlayer extends EventTarget {
  readonly video: HTMLVideoElement;
  readonly #container: HTMLElement | null;
  readonly #clock: Clock;
  readonly #options: PlayerOptions;
  readonly #videoView: VideoView;
  readonly #session: PlayerSession;
  #hub: HubConnection | null = null;

  constructor(options: PlayerOptions = {}) {
    super();
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#container = options.container ?? null;
    this.video = options.video ?? this.#newVideo();
    this.video.addEventListener("volumechange", () => {
      this.#emit("change", null);
    });
    this.#videoView = new VideoView(this.video, () => {
      this.#emit("change", null);
    });
    const origin = typeof location === "undefined" ? "" : location.origin;
    this.#session = new PlayerSession({
      link: { send: (message) => this.#hub?.send(message) },
      createPeer: options.createPeer ?? createPlayerPeer,
      video: this.#videoView,
      clock: this.#clock,
      wantedStreamerId: options.streamer?.trim() || null,
      initialState: "disconnected",
      observer: {
        stateChanged: (view, previous) => {
          const code = stateCode(view);
          const reason = explainState(view, origin);
          this.#emit("statechange", { state: view.state, previous, reason, code, view });
          if (view.state === "refused" && code !== null) this.#emit("error", { code, message: reason });
          if (view.state === "offline" && view.notice !== null) {
            this.#emit("error", { code: "hub-refused", message: view.notice });
          }
        },
        sessionStarted: (session) => {
          this.#emit("sessionstart", session);
        },
        sessionEnded: (session) => {
          const timeoutMs = this.#session.view.config?.heartbeat.timeoutMs ?? null;
          this.#emit("sessionend", { ...session, message: describeEnding(session.reason, timeoutMs) });
        },
        figuresChanged: (view) => {
          const { receiveStats, videoFigures, heartbeatRttMs, mediaRttMs } = view;
          this.#emit("stats", { receiveStats, videoFigures, heartbeatRttMs, mediaRttMs });
        },
        problem: (problem) => {
          this.#emit("error", problem);
        },
        changed: () => {
          this.#emit("change", null);
        },
      },
    });
    if (options.autoConnect !== false) this.connect();
  }

  /** What the player shows now: a frozen snapshot. */
  get view(): HeartlinePlayerView {
    return Object.freeze({
      ...this.#session.view,
      firstFrameAt: this.#videoView.firstFrameAt,
      hubRetryAt: this.#hub?.retryAt ?? null,
      muted: this.video.muted,
    });
  }

  /** The current session's peer connection (for stats), or null. */
  get peerConnection(): RTCPeerConnection | null {
    return this.#session.pc;
  }

  get muted(): boolean {
    return this.video.muted;
  }

  /** The player (its container, else the video) is fullscreen. */
  get fullscreen(): boolean {
    return document.fullscreenElement !== null && document.fullscreenElement === this.#fullscreenTarget();
  }

  /** Connects to the hub (again), or tries again now if a retry is pending. */
  connect(): void {
    this.#session.starting();
    if (this.#hub === null) {
      const { hub, token } = this.#options;
      this.#hub = connectToHub(
        {
          resumeToken: () => this.#session.resumeToken,
          connected: () => {
            this.#session.hubConnected();
          },
          disconnected: () => {
            this.#session.hubDisconnected();
          },
          unreachable: (refusal) => {
            this.#session.hubUnreachable(refusal);
          },
          refused: (refusal) => {
            this.#session.hubRefused(refusal);
          },
          message: (message) => {
            this.#session.handle(message);
          },
          changed: () => {
            this.#emit("change", null);
          },
        },
        { clock: this.#clock, token: token?.trim() || null, ...(hub ? { url: hub } : {}) },
      );
    } else {
      this.#hub.retryNow();
    }
  }

  /** Ends the session and closes the socket (the hub ends the session at once); no retries. */
  disconnect(): void {
    this.#hub?.close();
    this.#session.stop();
  }

  /**
   * The viewer's "try again now": reaches for the hub at once when it is away, else
   * resubscribes at once (also after a `kicked`, which waits for exactly this).
   */
  reconnect(): void {
    const { state } = this.#session.view;
    if (state === "disconnected") this.connect();
    else if (state === "offline" || state === "refused" || state === "reconnecting") this.#hub?.retryNow();
    else this.#session.retryNow();
  }

  mute(): void {
    this.video.muted = true;
  }

  /** Unmuting is a user gesture: a video the browser held back for autoplay may start now. */
  unmute(): void {
    const video = this.video;
    video.muted = false;
    if (video.paused && video.srcObject !== null) {
      video.play().catch((error: unknown) => {
        console.warn("heartline: video did not start playing", error);
      });
    }
  }

  /** The container (video, and whatever the page lays over it) fullscreen; on iPhone the video. */
  enterFullscreen(): void {
    if (document.fullscreenEnabled) {
      this.#fullscreenTarget()
        .requestFullscreen()
        .catch((error: unknown) => {
          console.warn("heartline: fullscreen refused", error);
        });
    } else {
      (this.video as WebkitVideo).webkitEnterFullscreen?.();
    }
  }

  exitFullscreen(): void {
    if (document.fullscreenElement === null) return;
    document.exitFullscreen().catch((error: unknown) => {
      console.warn("heartline: could not leave fullscreen", error);
    });
  }

  toggleFullscreen(): void {
    if (document.fullscreenElement !== null) this.exitFullscreen();
    else this.enterFullscreen();
  }

  override addEventListener<K extends keyof HeartlinePlayerEventMap>(
    type: K,
    listener: (event: HeartlinePlayerEventMap[K]) => void,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null | ((event: never) => void),
    options?: boolean | AddEventListenerOptions,
  ): void {
    super.addEventListener(type, listener as EventListenerOrEventListenerObject | null, options);
  }

  override removeEventListener<K extends keyof HeartlinePlayerEventMap>(
    type: K,
    listener: (event: HeartlinePlayerEventMap[K]) => void,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null | ((event: never) => void),
    options?: boolean | EventListenerOptions,
  ): void {
    super.removeEventListener(type, listener as EventListenerOrEventListenerObject | null, options);
  }

  #emit<K extends keyof HeartlinePlayerEventMap>(
    type: K,
    detail: HeartlinePlayerEventMap[K]["detail"],
  ): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  #fullscreenTarget(): HTMLElement {
    return this.#container ?? this.video;
  }

  #newVideo(): HTMLVideoElement {
    const video = document.createElement("video");
    // Muted, so autoplay is allowed; `unmute()` from a click turns the sound on.
    video.autoplay = true;
    video.muted = true;
    video.playsInline = true;
    this.#container?.append(video);
    return video;
  }
}

/** A player for `options`; connects at once unless `autoConnect: false`. */
export function createPlayer(options: PlayerOptions = {}): HeartlinePlayer {
  return new HeartlinePlayer(options);
}

export type { PlayerErrorDetail, SessionEndDetail, SessionStartDetail, StateChangeDetail, StatsDetail };
