import type { ConfigMessage, ReceiveStats, SessionCloseReason, SessionEnd } from "@heartline/shared";
import type { HeartlinePlayer, LinkState, StreamerEntry, VideoFigures } from "@heartline/player";

/** Read-only view of the player for end-to-end tests and curious people: `window.heartline`. */
export interface HeartlineDebug {
  readonly state: LinkState;
  readonly sessionId: string | null;
  readonly streamerId: string | null;
  /** The reason of the last `sessionClosed`, or null if none arrived yet. */
  readonly closeReason: SessionCloseReason | null;
  /** The current session's peer connection, or null. */
  readonly pc: RTCPeerConnection | null;
  readonly pingsReceived: number;
  readonly pongsSent: number;
  /** `performance.now()` when the last ping arrived, or null. */
  readonly lastPingAt: number | null;
  /** The last `config` from the hub, or null. */
  readonly config: ConfigMessage | null;
  readonly streamers: readonly StreamerEntry[];
  /** Sessions started since the page loaded (resubscriptions included). */
  readonly sessionsStarted: number;
  /** `performance.now()` when the current stream showed its first frame, or null. */
  readonly firstFrameAt: number | null;
  /** A hub error or local failure about the current session, or null. */
  readonly notice: string | null;
  /** While `state` is "stale": the end that missed a heartbeat, if the hub said; else null. */
  readonly late: SessionEnd | null;
  /** The streamer's measured signaling heartbeat RTT for this session, or null. */
  readonly heartbeatRttMs: number | null;
  /** The streamer's measured media-path (data-channel) RTT for this session, or null. */
  readonly mediaRttMs: number | null;
  /** Pings received (and answered) on the `heartline` data channel since the page loaded. */
  readonly mediaPingsReceived: number;
  /** Sessions kept across a socket drop since the page loaded. */
  readonly resumes: number;
  /** The cached inbound video figures sent with each pong, or null. */
  readonly receiveStats: ReceiveStats | null;
  /** The stats overlay's display figures of the last sample (resolution, bitrate, codec), or null. */
  readonly videoFigures: VideoFigures | null;
  /** While `state` is "refused": the hub's handshake code (`unauthorized`, ...); else null. */
  readonly refusal: string | null;
  /** After a `kicked`: no automatic resubscribe until the viewer presses Reconnect. */
  readonly paused: boolean;
  /** `performance.now()` when the next resubscribe attempt is due, or null. */
  readonly retryAt: number | null;
  /** `performance.now()` when the next attempt to reach the hub is due, or null. */
  readonly hubRetryAt: number | null;
  /** The stats overlay is shown. */
  readonly statsVisible: boolean;
  /** The video is muted (it starts muted, for autoplay). */
  readonly muted: boolean;
  /** The player is fullscreen. */
  readonly fullscreen: boolean;
}

/** The page's own parts the handle reads besides the player. */
export interface DebugSources {
  controls: { readonly statsVisible: boolean };
}

declare global {
  interface Window {
    readonly heartline: HeartlineDebug;
  }
}

/** `window.heartline`: getters over the player's read-only view. */
export function installDebugHandle(player: HeartlinePlayer, sources: DebugSources): HeartlineDebug {
  const { controls } = sources;
  const handle: HeartlineDebug = Object.freeze({
    get state() {
      return player.view.state;
    },
    get sessionId() {
      return player.view.sessionId;
    },
    get streamerId() {
      return player.view.streamerId;
    },
    get closeReason() {
      return player.view.closeReason;
    },
    get pc() {
      return player.peerConnection;
    },
    get pingsReceived() {
      return player.view.pingsReceived;
    },
    get pongsSent() {
      return player.view.pongsSent;
    },
    get lastPingAt() {
      return player.view.lastPingAt;
    },
    get config() {
      return player.view.config;
    },
    get streamers() {
      return player.view.streamers;
    },
    get sessionsStarted() {
      return player.view.sessionsStarted;
    },
    get firstFrameAt() {
      return player.view.firstFrameAt;
    },
    get notice() {
      return player.view.notice;
    },
    get late() {
      return player.view.late;
    },
    get heartbeatRttMs() {
      return player.view.heartbeatRttMs;
    },
    get mediaRttMs() {
      return player.view.mediaRttMs;
    },
    get mediaPingsReceived() {
      return player.view.mediaPingsReceived;
    },
    get resumes() {
      return player.view.resumes;
    },
    get receiveStats() {
      return player.view.receiveStats;
    },
    get videoFigures() {
      return player.view.videoFigures;
    },
    get refusal() {
      return player.view.refusal;
    },
    get paused() {
      return player.view.paused;
    },
    get retryAt() {
      return player.view.retryAt;
    },
    get hubRetryAt() {
      return player.view.hubRetryAt;
    },
    get statsVisible() {
      return controls.statsVisible;
    },
    get muted() {
      return player.view.muted;
    },
    get fullscreen() {
      return player.fullscreen;
    },
  });
  Object.defineProperty(window, "heartline", { value: handle, writable: false, enumerable: true });
  return handle;
}
