import type { LinkState, PlayerView, SessionEnding } from "./session/player-session.js";

/** `statechange`: the player moved to another state. */
export interface StateChangeDetail {
  readonly state: LinkState;
  readonly previous: LinkState;
  /** Why, in one sentence for people ("The streamer stopped responding (no heartbeat for 15 s)."). */
  readonly reason: string;
  /** The close reason (`ended`) or the hub's refusal code (`refused`), else null. */
  readonly code: string | null;
  readonly view: PlayerView;
}

/** `sessionstart`: the hub started a session with a streamer (the video follows). */
export interface SessionStartDetail {
  readonly sessionId: string;
  readonly streamerId: string;
}

/** `sessionend`: a session ended, by the hub (`SessionCloseReason`) or on this side. */
export interface SessionEndDetail {
  readonly sessionId: string;
  readonly streamerId: string;
  readonly reason: SessionEnding;
  /** The reason in words. */
  readonly message: string;
}

/** `stats`: a new receive-stats sample or media-path RTT of the current session. */
export interface StatsDetail {
  readonly receiveStats: PlayerView["receiveStats"];
  readonly videoFigures: PlayerView["videoFigures"];
  readonly heartbeatRttMs: number | null;
  readonly mediaRttMs: number | null;
}

/**
 * `error`: the hub refused this player (`origin-not-allowed`, `unauthorized`,
 * `too-many-connections`), refused a subscription (`streamer-full`, `not-allowed`, ...), or
 * the media failed (`media-failed`, `negotiation-failed`). The player keeps retrying where
 * retrying can help; `message` says what to do next.
 */
export interface PlayerErrorDetail {
  readonly code: string;
  readonly message: string;
}

/** Every event a `HeartlinePlayer` (and `<heartline-player>`) dispatches, by name. */
export interface HeartlinePlayerEventMap {
  statechange: CustomEvent<StateChangeDetail>;
  sessionstart: CustomEvent<SessionStartDetail>;
  sessionend: CustomEvent<SessionEndDetail>;
  stats: CustomEvent<StatsDetail>;
  error: CustomEvent<PlayerErrorDetail>;
  /** Anything shown changed (state, figures, countdowns scheduled, mute, fullscreen). */
  change: CustomEvent<null>;
}

export type HeartlinePlayerEventName = keyof HeartlinePlayerEventMap;
