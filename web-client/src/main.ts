import "./style.css";
import { createPlayer } from "@heartline/player";
import { systemClock } from "@heartline/shared/timing";
import { PlayerControls } from "./controls/player-controls.js";
import { installDebugHandle } from "./debug/debug-handle.js";
import { element } from "./overlay/dom.js";
import { Overlay } from "./overlay/overlay.js";
import { StatsPanel } from "./overlay/stats-panel.js";

// Wiring only: the page is the @heartline/player library (session, signaling, peer, video)
// with the hub's own status panel, stats and controls drawn from its view.

/**
 * How often the overlay refreshes the age of the last ping and the countdowns (display only).
 * Hidden tabs throttle this timer, and that is fine: pings are answered from message handlers,
 * never from a timer.
 */
const OVERLAY_TICK_MS = 250;

const query = new URLSearchParams(location.search);

function localStorageOrNull(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null; // blocked by the browser's privacy settings
  }
}

const player = createPlayer({
  video: element("video", HTMLVideoElement),
  container: element("player", HTMLElement),
  streamer: query.get("streamer"),
  // The operator's player token, if the link carries one (hubs that are not open require it).
  token: query.get("token"),
  autoConnect: false,
});
const overlay = new Overlay();
const stats = new StatsPanel();
const render = (): void => {
  const view = player.view;
  overlay.render(view, systemClock.now());
  stats.render(view);
  controls.render();
};
const controls = new PlayerControls({
  player,
  stats,
  storage: localStorageOrNull(),
  onChange: render,
});
player.addEventListener("change", render);

installDebugHandle(player, { controls });
player.connect();
render();
window.setInterval(render, OVERLAY_TICK_MS);

// Leaving the page says goodbye, so the hub ends this player's session at once instead of
// holding it for a resume that will never come. Back from the back/forward cache: reconnect.
window.addEventListener("pagehide", () => {
  player.disconnect();
});
window.addEventListener("pageshow", (event) => {
  if (event.persisted) player.connect();
});
