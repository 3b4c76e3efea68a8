import type { ConfigMessage, ReceiveStats, SessionCloseReason, SessionEnd } from "@heartline/shared";
import type { VideoFigures } from "../peer/receive-stats.js";
import type { StreamerEntry } from "../session/choose-streamer.js";
import type { LinkState, PlayerSession } from "../session/player-session.js";

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

/** The parts of the player beyond the session that the handle reads. */
export interface DebugSources {
  video: { readonly firstFrameAt: number | null };
  hub: { readonly retryAt: number | null };
  controls: { readonly statsVisible: boolean; readonly muted: boolean; readonly fullscreen: boolean };
}

declare global {
  interface Window {
    readonly heartline: HeartlineDebug;
  }
}

export function installDebugHandle(session: PlayerSession, sources: DebugSources): HeartlineDebug {
  const { video, hub, controls } = sources;
  const handle: HeartlineDebug = Object.freeze({
    get state() {
      return session.state;
    },
    get sessionId() {
      return session.sessionId;
    },
    get streamerId() {
      return session.streamerId;
    },
    get closeReason() {
      return session.closeReason;
    },
    get pc() {
      return session.pc;
    },
    get pingsReceived() {
      return session.pingsReceived;
    },
    get pongsSent() {
      return session.pongsSent;
    },
    get lastPingAt() {
      return session.lastPingAt;
    },
    get config() {
      return session.config;
    },
    get streamers() {
      return session.streamers;
    },
    get sessionsStarted() {
      return session.sessionsStarted;
    },
    get firstFrameAt() {
      return video.firstFrameAt;
    },
    get notice() {
      return session.notice;
    },
    get late() {
      return session.late;
    },
    get heartbeatRttMs() {
      return session.heartbeatRttMs;
    },
    get mediaRttMs() {
      return session.mediaRttMs;
    },
    get mediaPingsReceived() {
      return session.mediaPingsReceived;
    },
    get resumes() {
      return session.resumes;
    },
    get receiveStats() {
      return session.receiveStats;
    },
    get videoFigures() {
      return session.videoFigures;
    },
    get refusal() {
      return session.refusal;
    },
    get paused() {
      return session.paused;
    },
    get retryAt() {
      return session.retryAt;
    },
    get hubRetryAt() {
      return hub.retryAt;
    },
    get statsVisible() {
      return controls.statsVisible;
    },
    get muted() {
      return controls.muted;
    },
    get fullscreen() {
      return controls.fullscreen;
    },
  });
  Object.defineProperty(window, "heartline", { value: handle, writable: false, enumerable: true });
  return handle;
}
