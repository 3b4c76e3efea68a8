import type { VideoSink } from "../session/player-session.js";

/** The full-window <video>: shows one remote stream at a time and notes its first frame. */
export class VideoView implements VideoSink {
  /** `performance.now()` when the current stream showed its first frame, or null. */
  firstFrameAt: number | null = null;

  constructor(
    private readonly element: HTMLVideoElement,
    onFirstFrame: () => void,
  ) {
    element.addEventListener("loadeddata", () => {
      if (element.srcObject === null || this.firstFrameAt !== null) return;
      this.firstFrameAt = performance.now();
      onFirstFrame();
    });
  }

  show(stream: MediaStream): void {
    if (this.element.srcObject === stream) return;
    this.firstFrameAt = null;
    this.element.srcObject = stream;
    this.element.play().catch((error: unknown) => {
      // AbortError: the session ended (clear()) before playback started; nothing to report.
      if (error instanceof DOMException && error.name === "AbortError") return;
      console.warn("heartline: video did not start playing", error);
    });
  }

  clear(): void {
    this.firstFrameAt = null;
    this.element.pause();
    this.element.srcObject = null;
  }
}
