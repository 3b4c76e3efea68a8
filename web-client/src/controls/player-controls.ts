import type { HeartlinePlayer } from "@heartline/player";
import { element, setText } from "../overlay/dom.js";

/** localStorage key remembering whether the viewer wants the stats overlay. */
export const STATS_PREFERENCE_KEY = "heartline.player.stats";

/** The stats overlay as the controls see it. */
export interface Toggleable {
  visible: boolean;
}

export interface PlayerControlsOptions {
  player: HeartlinePlayer;
  stats: Toggleable;
  /** Where the stats choice is remembered; null when storage is unavailable. */
  storage: Pick<Storage, "getItem" | "setItem"> | null;
  /** Called after anything the controls show changed. */
  onChange: () => void;
}

/**
 * The buttons under the video and their keys: Reconnect, mute (`m`), stats (`s`), fullscreen
 * (`f`). Owns the viewer's stats preference; everything else is the player's
 * (`reconnect()`, `mute()`/`unmute()`, `toggleFullscreen()`).
 */
export class PlayerControls {
  private readonly reconnectButton = element("reconnect", HTMLButtonElement);
  private readonly muteButton = element("mute", HTMLButtonElement);
  private readonly statsButton = element("stats-toggle", HTMLButtonElement);
  private readonly fullscreenButton = element("fullscreen", HTMLButtonElement);

  constructor(private readonly options: PlayerControlsOptions) {
    const { onChange } = options;
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
      this.options.player.toggleFullscreen();
    });
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
      else if (key === "f") this.options.player.toggleFullscreen();
      else this.toggleMute();
    });
  }

  get statsVisible(): boolean {
    return this.options.stats.visible;
  }

  /** Whether Reconnect has something to cut short right now. */
  get canReconnect(): boolean {
    const s = this.options.player.view;
    switch (s.state) {
      case "disconnected":
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
    this.options.player.reconnect();
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
    const { player } = this.options;
    if (player.muted) player.unmute();
    else player.mute();
    this.options.onChange();
  }

  render(): void {
    const { player } = this.options;
    this.reconnectButton.hidden = !this.canReconnect;
    setText(this.muteButton, player.muted ? "Unmute" : "Mute");
    const stats = this.statsVisible;
    setText(this.statsButton, stats ? "Hide stats" : "Stats");
    this.statsButton.toggleAttribute("data-active", stats);
    const full = player.fullscreen;
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
