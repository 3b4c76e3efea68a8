import type { LinkState, PlayerView, SessionEnding } from "../session/player-session.js";
import { describeCloseReason, describeLate, describeRefusal } from "./describe-reason.js";

/**
 * Why the player is in its state, as one sentence for people (the `reason` of a
 * `statechange` event). No countdowns: those change every second; the view has `retryAt`.
 * @param origin this page's origin, named when the hub refused it.
 */
export function explainState(view: PlayerView, origin: string): string {
  const streamer = view.streamerId ?? "the streamer";
  switch (view.state) {
    case "disconnected":
      return "Not connected to the hub (disconnect() was called, or connect() not yet).";
    case "connecting":
      return "Connecting to the hub.";
    case "waiting":
      if (view.notice !== null) return view.notice;
      if (view.paused) return "Waiting for the viewer to reconnect.";
      if (view.choice.kind === "pick") return "Several streamers are live; pick one.";
      return view.choice.kind === "wait" && view.choice.streamerId !== null
        ? `“${view.choice.streamerId}” is not streaming right now; the video starts as soon as it is.`
        : "Nobody is streaming to this hub right now; the video starts as soon as someone does.";
    case "negotiating":
      return `Setting up the stream from ${streamer}.`;
    case "live":
      return `Playing ${streamer} live.`;
    case "stale":
      return describeLate(view.late, view.lateAway);
    case "reconnecting":
      return "Lost the hub; reconnecting. The video keeps playing meanwhile.";
    case "ended":
      return view.closeReason === null
        ? "The session ended."
        : describeCloseReason(view.closeReason, view.config?.heartbeat.timeoutMs ?? null);
    case "offline":
      return view.notice ?? "The hub cannot be reached; retrying.";
    case "refused":
      return describeRefusal(view.refusal ?? "refused", origin);
  }
}

/** The code that goes with a state, if it has one: the close reason, or the hub's refusal. */
export function stateCode(view: PlayerView): string | null {
  if (view.state === "ended") return view.closeReason;
  if (view.state === "refused") return view.refusal;
  return null;
}

/** Why a session ended, in words (the `sessionend` event). */
export function describeEnding(reason: SessionEnding, heartbeatTimeoutMs: number | null): string {
  switch (reason) {
    case "hub-lost":
      return "The connection to the hub was lost and the session could not be kept.";
    case "session-not-found":
      return "The hub no longer knew this session.";
    case "disconnected":
      return "This page disconnected the player.";
    default:
      return describeCloseReason(reason, heartbeatTimeoutMs);
  }
}

/** Each label contains its state's name, so a test can match either. */
export const STATE_LABELS: Record<LinkState, string> = {
  disconnected: "Disconnected",
  connecting: "Connecting to hub",
  waiting: "Waiting for streamer",
  negotiating: "Negotiating",
  live: "Live",
  stale: "Link degraded (stale)",
  reconnecting: "Reconnecting to hub",
  ended: "Ended",
  offline: "Offline — hub unreachable",
  refused: "Not allowed (refused by the hub)",
};
