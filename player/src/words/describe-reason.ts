import type { SessionCloseReason, SessionEnd } from "@heartline/shared";

function seconds(ms: number): string {
  const s = ms / 1000;
  return Number.isInteger(s) ? `${s} s` : `${s.toFixed(1)} s`;
}

/**
 * Why the session ended, in plain words for the viewer.
 * @param heartbeatTimeoutMs `config.heartbeat.timeoutMs`, or null before the first config.
 */
export function describeCloseReason(reason: SessionCloseReason, heartbeatTimeoutMs: number | null): string {
  const silence = heartbeatTimeoutMs === null ? "" : ` for ${seconds(heartbeatTimeoutMs)}`;
  switch (reason) {
    case "streamer-heartbeat-timeout":
      return `The streamer stopped responding (no heartbeat${silence}).`;
    case "player-heartbeat-timeout":
      return `This player stopped answering heartbeats${silence} (the tab was frozen or the network dropped).`;
    case "streamer-left":
      return "The streamer disconnected from the hub.";
    case "player-left":
      return "The hub lost this player's connection.";
    case "unsubscribed":
      return "The session was ended from this player.";
    case "media-timeout":
      return "The video connection failed (media path timeout).";
    case "kicked":
      return "An operator ended this session.";
    case "hub-shutdown":
      return "The hub is shutting down.";
    case "hub-link-lost":
      return "This hub lost its link to the hub that serves this stream (that hub stopped or Redis is down).";
  }
}

/**
 * Why the hub refused this player's handshake, as one sentence with the next step.
 * @param refusal the hub's handshake code (`unauthorized`, `origin-not-allowed`, ...).
 * @param origin this page's origin, named when the hub refused it.
 */
export function describeRefusal(refusal: string, origin: string): string {
  let why: string;
  switch (refusal) {
    case "unauthorized":
      why = "its link has no valid token (missing, wrong or expired)";
      break;
    case "origin-not-allowed":
      why = `the hub does not accept players on ${origin}`;
      break;
    default:
      why = `the hub said “${refusal}”`;
  }
  return `This player is not allowed to connect: ${why}. Ask the operator for a new link.`;
}

/**
 * Which end is late, in plain words (`late` of a stale `sessionState`); `away`: its connection
 * to the hub dropped, which is not the same as missing a beat.
 */
export function describeLate(late: SessionEnd | null, away = false): string {
  if (away && late === "streamer")
    return "The streamer's connection to the hub dropped; waiting for it to come back.";
  if (away && late === "player") return "This player's connection to the hub dropped.";
  switch (late) {
    case "streamer":
      return "The streamer missed a heartbeat.";
    case "player":
      return "This player missed a heartbeat.";
    case null:
      return "A heartbeat was missed.";
  }
}

export { seconds as formatSeconds };
