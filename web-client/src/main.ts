import "./style.css";
import { installDebugHandle } from "./debug/debug-handle.js";
import { Overlay } from "./overlay/overlay.js";
import { createPlayerPeer } from "./peer/player-peer.js";
import { browserClock } from "./session/clock.js";
import { PlayerSession } from "./session/player-session.js";
import { connectToHub } from "./signaling/hub-connection.js";
import { VideoView } from "./video/video-view.js";

// Wiring only. The callbacks below refer to objects created further down; none of them runs
// before this module has finished (socket and media events are asynchronous).

/**
 * How often the overlay refreshes the age of the last ping (display only). Hidden tabs throttle
 * this timer, and that is fine: pings are answered from message handlers, never from a timer.
 */
const OVERLAY_TICK_MS = 250;

const videoElement = document.getElementById("video");
if (!(videoElement instanceof HTMLVideoElement)) throw new Error("index.html lacks <video id=video>");
const wantedStreamerId = new URLSearchParams(location.search).get("streamer")?.trim() || null;

const render = (): void => {
  overlay.render(browserClock.now());
};
const video = new VideoView(videoElement, render);
const hub = connectToHub({
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
  message: (message) => {
    session.handle(message);
  },
});
const session = new PlayerSession({
  link: hub,
  createPeer: createPlayerPeer,
  video,
  clock: browserClock,
  wantedStreamerId,
  onChange: render,
});
const overlay = new Overlay(session, video);

installDebugHandle(session, video);
render();
window.setInterval(render, OVERLAY_TICK_MS);
