import type { HeartlinePlayerEventMap } from "../events.js";
import { HeartlinePlayer, type HeartlinePlayerView } from "../player.js";
import { explainState, STATE_LABELS } from "../words/explain-state.js";

/** The tag `defineHeartlinePlayer()` registers. */
export const HEARTLINE_PLAYER_TAG = "heartline-player";

const EVENTS: readonly (keyof HeartlinePlayerEventMap)[] = [
  "statechange",
  "sessionstart",
  "sessionend",
  "stats",
  "error",
  "change",
];

const STYLE = `
:host { display: block; position: relative; background: #000; aspect-ratio: 16 / 9; overflow: hidden; }
:host([hidden]) { display: none; }
video { display: block; width: 100%; height: 100%; object-fit: contain; background: #000; }
[part="status"] { position: absolute; left: 0.5em; top: 0.5em; max-width: calc(100% - 1em); margin: 0;
  padding: 0.35em 0.6em; border-radius: 0.4em; background: rgb(0 0 0 / 0.65); color: #fff;
  font: 13px/1.35 system-ui, sans-serif; }
[part="status"][hidden] { display: none; }
`;

/** Events of the element: the player's, in place of the same-named generic ones. */
export type HeartlinePlayerElementEventMap = Omit<HTMLElementEventMap, keyof HeartlinePlayerEventMap> &
  HeartlinePlayerEventMap;

/**
 * `<heartline-player hub="https://hub.example.com" streamer="cam1" token="…">`: a video that
 * plays a heartline stream, with a one-line status over it while it is not live. It connects
 * when added to the page and disconnects when removed; changing an attribute starts over.
 * Its events (`statechange`, `sessionstart`, `sessionend`, `stats`, `error`, `change`) are
 * the `HeartlinePlayer`'s, dispatched from the element (they bubble and leave the shadow root).
 */
export class HeartlinePlayerElement extends HTMLElement {
  static readonly observedAttributes = ["hub", "streamer", "token"];
  readonly #video: HTMLVideoElement;
  readonly #status: HTMLParagraphElement;
  #player: HeartlinePlayer | null = null;

  constructor() {
    super();
    const root = this.attachShadow({ mode: "open" });
    const style = document.createElement("style");
    style.textContent = STYLE;
    this.#video = document.createElement("video");
    this.#video.part.add("video");
    this.#video.autoplay = true;
    this.#video.muted = true;
    this.#video.playsInline = true;
    this.#status = document.createElement("p");
    this.#status.part.add("status");
    this.#status.setAttribute("role", "status");
    root.append(style, this.#video, this.#status);
  }

  /** The player inside, once connected to the page; null before. */
  get player(): HeartlinePlayer | null {
    return this.#player;
  }

  /** The player's view, or null before the element is on a page. */
  get view(): HeartlinePlayerView | null {
    return this.#player?.view ?? null;
  }

  get video(): HTMLVideoElement {
    return this.#video;
  }

  connectedCallback(): void {
    this.connect();
  }

  disconnectedCallback(): void {
    this.disconnect();
  }

  attributeChangedCallback(_name: string, previous: string | null, next: string | null): void {
    if (previous === next || this.#player === null) return;
    // Another hub, streamer or token is another player.
    this.#dropPlayer();
    this.connect();
  }

  /** Connects (a new player on the current attributes), or tries again now if already made. */
  connect(): void {
    if (this.#player !== null) {
      this.#player.connect();
      return;
    }
    const player = new HeartlinePlayer({
      hub: this.getAttribute("hub"),
      streamer: this.getAttribute("streamer"),
      token: this.getAttribute("token"),
      video: this.#video,
      container: this,
      autoConnect: false,
    });
    for (const type of EVENTS) {
      player.addEventListener(type, (event: CustomEvent<unknown>) => {
        this.dispatchEvent(new CustomEvent(type, { detail: event.detail, bubbles: true, composed: true }));
      });
    }
    player.addEventListener("change", () => {
      this.#renderStatus();
    });
    this.#player = player;
    player.connect();
    this.#renderStatus();
  }

  disconnect(): void {
    this.#player?.disconnect();
  }

  mute(): void {
    this.#player?.mute();
  }

  unmute(): void {
    this.#player?.unmute();
  }

  enterFullscreen(): void {
    this.#player?.enterFullscreen();
  }

  exitFullscreen(): void {
    this.#player?.exitFullscreen();
  }

  toggleFullscreen(): void {
    this.#player?.toggleFullscreen();
  }

  override addEventListener<K extends keyof HeartlinePlayerElementEventMap>(
    type: K,
    listener: (this: HeartlinePlayerElement, event: HeartlinePlayerElementEventMap[K]) => void,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | ((event: never) => void),
    options?: boolean | AddEventListenerOptions,
  ): void {
    super.addEventListener(type, listener as EventListenerOrEventListenerObject, options);
  }

  override removeEventListener<K extends keyof HeartlinePlayerElementEventMap>(
    type: K,
    listener: (this: HeartlinePlayerElement, event: HeartlinePlayerElementEventMap[K]) => void,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | ((event: never) => void),
    options?: boolean | EventListenerOptions,
  ): void {
    super.removeEventListener(type, listener as EventListenerOrEventListenerObject, options);
  }

  #dropPlayer(): void {
    this.#player?.disconnect();
    this.#player = null;
  }

  /** The state in a few words while not playing; hidden once the first frame shows. */
  #renderStatus(): void {
    const view = this.#player?.view;
    const playing = view !== undefined && view.state === "live" && view.firstFrameAt !== null;
    this.#status.hidden = playing;
    let text = "";
    if (view !== undefined) {
      // Where the viewer has to learn why (or what to do), the sentence; else the label.
      const why = view.state === "refused" || view.state === "ended" || view.state === "offline";
      text = why
        ? `${STATE_LABELS[view.state]}: ${explainState(view, location.origin)}`
        : STATE_LABELS[view.state];
    }
    if (this.#status.textContent !== text) this.#status.textContent = text;
    if (view !== undefined) this.dataset.state = view.state;
  }
}

/** Registers `<heartline-player>` (once; later calls do nothing). */
export function defineHeartlinePlayer(tag = HEARTLINE_PLAYER_TAG): void {
  if (customElements.get(tag) === undefined) customElements.define(tag, HeartlinePlayerElement);
}

declare global {
  interface HTMLElementTagNameMap {
    "heartline-player": HeartlinePlayerElement;
  }
}
