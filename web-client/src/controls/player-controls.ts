import { element, setText } from "../overlay/dom.js";
import type { PlayerSession } from "../session/player-session.js";

/** localStorage key remembering whether the viewer wants the stats overlay. */
export const STATS_PREFERENCE_KEY = "heartline.player.stats";

/** What the Reconnect button needs from the hub connection. */
export interface Reconnectable {
  retryNow(): void;
}

/** The stats overlay as the controls see it. */
export interface Toggleable {
  visible: boolean;
}

export interface PlayerControlsOptions {
  /** The element that goes fullscreen: video, overlays and controls together. */
  container: HTMLElement;
  video: HTMLVideoElement;
  stats: Toggleable;
  session: PlayerSession;
  hub: Reconnectable;
  /** Where the stats choice is remembered; null when storage is unavailable. */
  storage: Pick<Storage, "getItem" | "setItem"> | null;
  /** Called after anything the controls show changed. */
  onChange: () => void;
}

/** Safari on iPhone has no element fullscreen, only the video's own. */
interface WebkitVideo {
  webkitEnterFullscreen?: () => void;
}

/**
 * The buttons under the video and their keys: Reconnect, mute (`m`), stats (`s`), fullscreen
 * (`f`). Owns the viewer's preferences; asks the hub connection or the session to retry.
 */
export class PlayerControls {
  private readonly reconnectButton = element("reconnect", HTMLButtonElement);
  private readonly muteButton = element("mute", HTMLButtonElement);
  private readonly statsButton = element("stats-toggle", HTMLButtonElement);
  private readonly fullscreenButton = element("fullscreen", HTMLButtonElement);

  constructor(private readonly options: PlayerControlsOptions) {
    const { video, onChange } = options;
    options.stats.visible = this.readStatsPreference();
    this.reconnectButton.addEventListener("click", () => {
      this.reconnect();
    });
    this.muteButton.addEventListener("click", () => {
      this.toggleMute();
    });
    this.statsButton.addEventListener("click", () => {
      this.toggleStats();
    });
    this.fullscreenButton.addEventListener("click", () => {
      this.toggleFullscreen();
    });
    video.addEventListener("volumechange", onChange);
    document.addEventListener("fullscreenchange", onChange);
    document.addEventListener("keydown", (event) => {
      if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
      const target = event.target;
      if (
        target instanceof HTMLElement &&
        (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))
      )
        return;
      const key = event.key.toLowerCase();
      if (key !== "s" && key !== "f" && key !== "m") return;
      event.preventDefault();
      if (key === "s") this.toggleStats();
      else if (key === "f") this.toggleFullscreen();
      else this.toggleMute();
    });
  }

  get statsVisible(): boolean {
    return this.options.stats.visible;
  }

  get muted(): boolean {
    return this.options.video.muted;
  }

  get fullscreen(): boolean {
    return document.fullscreenElement === this.options.container;
  }

  /** Whether Reconnect has something to cut short right now. */
  get canReconnect(): boolean {
    const s = this.options.session;
    switch (s.state) {
      case "offline":
      case "refused":
      case "reconnecting":
      case "ended":
        return true;
      case "waiting":
        return s.retryAt !== null || s.paused;
      default:
        return false;
    }
  }

  /** Retries at once: the socket when the hub is away, else the streamer. */
  reconnect(): void {
    const s = this.options.session;
    if (s.state === "offline" || s.state === "refused" || s.state === "reconnecting")
      this.options.hub.retryNow();
    else s.retryNow();
    this.options.onChange();
  }

  toggleStats(): void {
    const shown = !this.options.stats.visible;
    this.options.stats.visible = shown;
    try {
      this.options.storage?.setItem(STATS_PREFERENCE_KEY, shown ? "shown" : "hidden");
    } catch {
      // Storage full or forbidden: the choice lasts for this page only.
    }
    this.options.onChange();
  }

  toggleMute(): void {
    const { video } = this.options;
    video.muted = !video.muted;
    // Unmuting is a user gesture: a player the browser paused for autoplay may start now.
    if (!video.muted && video.paused && video.srcObject !== null) {
      video.play().catch((error: unknown) => {
        console.warn("heartline: video did not start playing", error);
      });
    }
    this.options.onChange();
  }

  toggleFullscreen(): void {
    if (document.fullscreenElement !== null) {
      document.exitFullscreen().catch((error: unknown) => {
        console.warn("heartline: could not leave fullscreen", error);
      });
      return;
    }
    const { container, video } = this.options;
    if (document.fullscreenEnabled) {
      container.requestFullscreen().catch((error: unknown) => {
        console.warn("heartline: fullscreen refused", error);
      });
    } else {
      (video as WebkitVideo).webkitEnterFullscreen?.();
    }
  }

  render(): void {
    this.reconnectButton.hidden = !this.canReconnect;
    const muted = this.muted;
    setText(this.muteButton, muted ? "Unmute" : "Mute");
    const stats = this.statsVisible;
    setText(this.statsButton, stats ? "Hide stats" : "Stats");
    this.statsButton.toggleAttribute("data-active", stats);
    const full = this.fullscreen;
    setText(this.fullscreenButton, full ? "Exit fullscreen" : "Fullscreen");
    this.fullscreenButton.toggleAttribute("data-active", full);
  }

  private readStatsPreference(): boolean {
    try {
      return this.options.storage?.getItem(STATS_PREFERENCE_KEY) === "shown";
    } catch {
      return false;
    }
  }
}
