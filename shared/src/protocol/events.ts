/**
 * socket.io event maps for each side, so a misspelled event or a message sent the wrong way is
 * a compile error: `Socket<StreamerListenEvents, StreamerEmitEvents>` and so on.
 */
import type {
  HubMessage,
  HubToPlayerMessage,
  HubToStreamerMessage,
  PlayerToHubMessage,
  StreamerToHubMessage,
} from "./messages.js";

export interface StreamerListenEvents {
  message: (message: HubToStreamerMessage) => void;
}
export interface StreamerEmitEvents {
  message: (message: StreamerToHubMessage) => void;
}
export interface PlayerListenEvents {
  message: (message: HubToPlayerMessage) => void;
}
export interface PlayerEmitEvents {
  message: (message: PlayerToHubMessage) => void;
}
/** What the hub receives is untrusted until validated, hence `unknown`. */
export interface HubListenEvents {
  message: (message: unknown) => void;
}
export interface HubEmitEvents {
  message: (message: HubMessage) => void;
}
