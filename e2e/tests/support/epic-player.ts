/**
 * What the tests read from Epic's stock Pixel Streaming page (`ps-player`, served at `/ps/`): the
 * events of its `window.pixelStreaming` object, recorded from the moment the page creates it,
 * and the frames its video element has decoded.
 */
import type { Page } from "@playwright/test";

/** The frontend's events a test waits for (Epic's `PixelStreaming` event names). */
export const PS_EVENTS = [
  "streamerListMessage",
  "webRtcConnected",
  "dataChannelOpen",
  "videoInitialized",
  "playStream",
  "playStreamRejected",
  "playStreamError",
  "webRtcFailed",
  "webRtcDisconnected",
] as const;
export type PsEventName = (typeof PS_EVENTS)[number];

export interface PsEvent {
  name: PsEventName;
  /** `performance.now()` in the page. */
  at: number;
}

declare global {
  interface Window {
    psEvents?: PsEvent[];
  }
}

/**
 * Before the page loads: catches the assignment of `window.pixelStreaming` (the page's own
 * `exposeStream`) and records the stream's events from then on.
 */
export async function recordPsEvents(page: Page): Promise<void> {
  await page.addInitScript((names: readonly string[]) => {
    const events: { name: string; at: number }[] = [];
    let stream: EventTarget | undefined;
    Object.defineProperty(window, "psEvents", { value: events });
    Object.defineProperty(window, "pixelStreaming", {
      configurable: true,
      get: () => stream,
      set: (value: EventTarget) => {
        stream = value;
        for (const name of names) {
          value.addEventListener(name, () => {
            events.push({ name, at: performance.now() });
          });
        }
      },
    });
  }, PS_EVENTS);
}

export function psEvents(page: Page): Promise<PsEvent[]> {
  return page.evaluate(() => [...(window.psEvents ?? [])]);
}

export async function waitForPsEvent(page: Page, name: PsEventName, timeoutMs = 20_000): Promise<void> {
  await page.waitForFunction((n) => window.psEvents?.some((e) => e.name === n) === true, name, {
    timeout: timeoutMs,
  });
}

/** Frames the page's video element has decoded so far, and its picture size. */
export function decodedFrames(page: Page): Promise<{ frames: number; width: number; height: number }> {
  return page.evaluate(() => {
    const video = document.querySelector("video");
    if (!video) throw new Error("Epic's page has no video element");
    return {
      frames: video.getVideoPlaybackQuality().totalVideoFrames,
      width: video.videoWidth,
      height: video.videoHeight,
    };
  });
}
