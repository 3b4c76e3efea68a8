import "./style.css";
import { systemClock } from "@heartline/shared/timing";
import { PlayerControls } from "./controls/player-controls.js";
import { installDebugHandle } from "./debug/debug-handle.js";
import { element } from "./overlay/dom.js";
import { Overlay } from "./overlay/overlay.js";
import { StatsPanel } from "./overlay/stats-panel.js";
import { createPlayerPeer } from "./peer/player-peer.js";
import { PlayerSession } from "./session/player-session.js";
import { connectToHub } from "./signaling/hub-connection.js";
import { VideoView } from "./video/video-view.js";

// Wiring only. The callbacks below refer to objects created further down; none of them runs
// before this module has finished (socket and media events are asynchronous).

/**
 * How often the overlay refreshes the age of the last ping and the countdowns (display only).
 * Hidden tabs throttle this timer, and that is fine: pings are answered from message handlers,
 * never from a timer.
 */
const OVERLAY_TICK_MS = 250;

const videoElement = element("video", HTMLVideoElement);
const query = new URLSearchParams(location.search);
const wantedStreamerId = query.get("streamer")?.trim() || null;
/** The operator's player token, if the link carries one (hubs that are not open require it). */
const token = query.get("token")?.trim() || null;

function localStorageOrNull(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null; // blocked by the browser's privacy settings
  }
}

const render = (): void => {
  const now = systemClock.now();
  overlay.render(now);
  stats.render();
  controls.render();
};
const video = new VideoView(videoElement, render);
const hub = connectToHub(
  {
    resumeToken: () => session.resumeToken,
    connected: () => {
      session.hubConnected();
    },
    disconnected: () => {
      session.hubDisconnected();
    },
    unreachable: (refusal) => {
      session.hubUnreachable(refusal);
    },
    refused: (refusal) => {
      session.hubRefused(refusal);
    },
    message: (message) => {
      session.handle(message);
    },
    changed: render,
  },
  { clock: systemClock, token },
);
const session = new PlayerSession({
  link: hub,
  createPeer: createPlayerPeer,
  video,
  clock: systemClock,
  wantedStreamerId,
  onChange: render,
});
const overlay = new Overlay(session, video, hub);
const stats = new StatsPanel(session);
const controls = new PlayerControls({
  container: element("player", HTMLElement),
  video: videoElement,
  stats,
  session,
  hub,
  storage: localStorageOrNull(),
  onChange: render,
});

installDebugHandle(session, { video, hub, controls });
render();
window.setInterval(render, OVERLAY_TICK_MS);

// Leaving the page says goodbye, so the hub ends this player's session at once instead of
// holding it for a resume that will never come. Back from the back/forward cache: reconnect.
window.addEventListener("pagehide", () => {
  hub.socket.disconnect();
});
window.addEventListener("pageshow", (event) => {
  if (event.persisted) hub.retryNow();
});
