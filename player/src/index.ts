// The heartline player as a library. Importing it in a browser registers <heartline-player>.
import { defineHeartlinePlayer } from "./element/heartline-player-element.js";

export { createPlayer, HeartlinePlayer } from "./player.js";
export type { HeartlinePlayerView, PlayerOptions } from "./player.js";
export type {
  HeartlinePlayerEventMap,
  HeartlinePlayerEventName,
  PlayerErrorDetail,
  SessionEndDetail,
  SessionStartDetail,
  StateChangeDetail,
  StatsDetail,
} from "./events.js";
export {
  defineHeartlinePlayer,
  HEARTLINE_PLAYER_TAG,
  HeartlinePlayerElement,
  type HeartlinePlayerElementEventMap,
} from "./element/heartline-player-element.js";
export type { LinkState, LocalEnding, PlayerView, SessionEnding } from "./session/player-session.js";
export type { StreamerChoice, StreamerEntry } from "./session/choose-streamer.js";
export type { VideoFigures } from "./peer/receive-stats.js";
export { RECONNECT_BACKOFF } from "./signaling/hub-connection.js";
export { RESUBSCRIBE_BACKOFF } from "./session/player-session.js";
export {
  describeCloseReason,
  describeLate,
  describeRefusal,
  formatSeconds,
} from "./words/describe-reason.js";
export { describeEnding, explainState, STATE_LABELS, stateCode } from "./words/explain-state.js";

if (typeof customElements !== "undefined") defineHeartlinePlayer();
