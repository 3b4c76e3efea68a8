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
  "subscribeFailed",
] as const;
export type PsEventName = (typeof PS_EVENTS)[number];

export interface PsEvent {
  name: PsEventName;
  /** `performance.now()` in the page. */
  at: number;
  /** The event's `data` fields that are strings, numbers or booleans (`eventString`, `message`, ...). */
  data?: Record<string, string | number | boolean>;
}

/** Frames presented since `countPresentedFrames`, with each one's `performance.now()` in the page. */
export interface PresentedFrames {
  frames: number;
  times: number[];
}

/** One WebSocket the page opened, as the page itself saw it. */
export interface PageSocket {
  url: string;
  /** `performance.now()` in the page when it was created, opened and closed. */
  createdAt: number;
  openedAt?: number;
  closedAt?: number;
  code?: number;
  reason?: string;
}

declare global {
  interface Window {
    psEvents?: PsEvent[];
    psSockets?: PageSocket[];
    psPresented?: PresentedFrames;
  }
}

/**
 * Before the page loads: catches the assignment of `window.pixelStreaming` (the page's own
 * `exposeStream`) and records the stream's events from then on.
 */
export async function recordPsEvents(page: Page): Promise<void> {
  await page.addInitScript((names: readonly PsEventName[]) => {
    const events: PsEvent[] = [];
    let stream: EventTarget | undefined;
    Object.defineProperty(window, "psEvents", { value: events });
    Object.defineProperty(window, "pixelStreaming", {
      configurable: true,
      get: () => stream,
      set: (value: EventTarget) => {
        stream = value;
        for (const name of names) {
          value.addEventListener(name, (event: Event) => {
            const data: Record<string, string | number | boolean> = {};
            const raw = (event as Event & { data?: unknown }).data;
            if (typeof raw === "object" && raw !== null) {
              for (const [key, field] of Object.entries(raw)) {
                if (typeof field === "string" || typeof field === "number" || typeof field === "boolean")
                  data[key] = field;
              }
            }
            events.push({ name, at: performance.now(), data });
          });
        }
      },
    });
  }, PS_EVENTS);
}

/**
 * Before the page loads: records every WebSocket the page opens and how it closed (code and
 * reason as the page received them), which Playwright's own `websocket` event does not report.
 */
export async function recordSockets(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const sockets: PageSocket[] = [];
    Object.defineProperty(window, "psSockets", { value: sockets });
    const Native = window.WebSocket;
    class RecordedWebSocket extends Native {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols);
        const entry: PageSocket = { url: String(url), createdAt: performance.now() };
        sockets.push(entry);
        this.addEventListener("open", () => {
          entry.openedAt = performance.now();
        });
        this.addEventListener("close", (event) => {
          Object.assign(entry, { closedAt: performance.now(), code: event.code, reason: event.reason });
        });
      }
    }
    window.WebSocket = RecordedWebSocket;
  });
}

export function pageSockets(page: Page): Promise<PageSocket[]> {
  return page.evaluate(() => [...(window.psSockets ?? [])].map((s) => ({ ...s })));
}

export function psEvents(page: Page): Promise<PsEvent[]> {
  return page.evaluate(() => [...(window.psEvents ?? [])]);
}

export async function waitForPsEvent(page: Page, name: PsEventName, timeoutMs = 20_000): Promise<void> {
  await page.waitForFunction((n) => window.psEvents?.some((e) => e.name === n) === true, name, {
    timeout: timeoutMs,
  });
}

/**
 * Frames decoded over `windowMs` (0 if there is no video element yet). A new peer connection may
 * start the element's count again; a drop counts as no progress, not as negative.
 */
export async function framesDecodedOver(page: Page, windowMs: number): Promise<number> {
  const count = () =>
    page.evaluate(() => document.querySelector("video")?.getVideoPlaybackQuality().totalVideoFrames ?? 0);
  const before = await count();
  await page.waitForTimeout(windowMs);
  return Math.max(0, (await count()) - before);
}

/**
 * From now on, counts the frames the page's video element presents (`requestVideoFrameCallback`),
 * across the new peer connections Epic's frontend builds on the same element: unlike
 * `totalVideoFrames`, the count never starts again.
 */
export async function countPresentedFrames(page: Page): Promise<void> {
  await page.evaluate(() => {
    const video = document.querySelector("video");
    if (!video) throw new Error("Epic's page has no video element");
    const presented: PresentedFrames = { frames: 0, times: [] };
    window.psPresented = presented;
    const onFrame = (now: number): void => {
      presented.frames += 1;
      presented.times.push(now);
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  });
}

/** What `countPresentedFrames` counted. */
export function presentedFrames(page: Page): Promise<PresentedFrames> {
  return page.evaluate(() => {
    const presented = window.psPresented ?? { frames: 0, times: [] };
    return { frames: presented.frames, times: [...presented.times] };
  });
}

/**
 * The page time at which playback resumed for good: the first frame of the first second in which
 * at least `fps` frames were presented.
 */
export function sustainedFrom(presented: PresentedFrames, fps = 10): number | undefined {
  const { times } = presented;
  for (let i = 0; i + fps - 1 < times.length; i++) {
    const start = times[i] ?? Number.NaN;
    const end = times[i + fps - 1] ?? Number.NaN;
    if (end - start <= 1000) return start;
  }
  return undefined;
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
