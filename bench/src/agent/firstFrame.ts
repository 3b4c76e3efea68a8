/**
 * Time to the first decoded frame in Chromium: a fresh context per run opens the hub's player,
 * and a script injected before the page's own marks, in `performance.now()` (milliseconds since
 * navigation start), when each step of the way was first seen.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { chromium, type Browser } from "playwright-core";
import { CHROMIUM_ARGS } from "@heartline/shared/testing";
import { STREAMER_ID } from "./rig.js";

/** The steps, in the order they happen. */
export const MARKS = [
  "domContentLoaded",
  "negotiating",
  "sessionStarted",
  "iceConnected",
  "dtlsConnected",
  "firstPacket",
  "framesDecoded",
  "firstFrame",
] as const;
export type Mark = (typeof MARKS)[number];
export type Marks = Partial<Record<Mark, number>>;

/**
 * Plain browser JavaScript (bench/ is type-checked without DOM types). Polls every 5 ms:
 * `window.heartline` for the player's state, its peer connection's getStats() for the first
 * packet and frame decoded; `requestVideoFrameCallback` marks the first frame presented.
 */
const PAGE_SCRIPT = `(() => {
  const marks = {};
  window.__heartlineBench = marks;
  const mark = (name) => { if (marks[name] === undefined) marks[name] = performance.now(); };
  document.addEventListener("DOMContentLoaded", () => mark("domContentLoaded"));
  let hooked = null;
  const tick = async () => {
    const h = window.heartline;
    if (h) {
      if (h.state === "negotiating") mark("negotiating");
      if (h.sessionId) mark("sessionStarted");
      const pc = h.pc;
      if (pc) {
        if (pc.iceConnectionState === "connected" || pc.iceConnectionState === "completed") mark("iceConnected");
        if (pc.connectionState === "connected") mark("dtlsConnected");
        if (marks.iceConnected !== undefined && marks.framesDecoded === undefined) {
          const stats = await pc.getStats();
          stats.forEach((r) => {
            if (r.type !== "inbound-rtp" || r.kind !== "video") return;
            if (r.packetsReceived > 0) mark("firstPacket");
            if (r.framesDecoded > 0) mark("framesDecoded");
          });
        }
      }
    }
    const video = document.querySelector("video");
    if (video && video !== hooked) {
      hooked = video;
      video.requestVideoFrameCallback(() => mark("firstFrame"));
    }
    if (marks.firstFrame === undefined || marks.framesDecoded === undefined) setTimeout(tick, 5);
  };
  void tick();
})();`;

/** The page script's marks; functions (not strings) are evaluated, so the player's CSP allows them. */
const readMarks = (): unknown => (globalThis as { __heartlineBench?: unknown }).__heartlineBench;
const done = (): boolean => {
  const marks = (globalThis as { __heartlineBench?: Record<string, unknown> }).__heartlineBench;
  return marks?.firstFrame !== undefined && marks.framesDecoded !== undefined;
};

export async function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({ executablePath, args: [...CHROMIUM_ARGS] });
}

function toMarks(raw: unknown): Marks {
  const marks: Marks = {};
  if (typeof raw !== "object" || raw === null) return marks;
  const record = raw as Record<string, unknown>;
  for (const name of MARKS) {
    const value = record[name];
    if (typeof value === "number") marks[name] = Math.round(value);
  }
  return marks;
}

/** One run in a fresh context; rejects if no frame is decoded within `timeoutMs`. */
export async function firstFrameRun(browser: Browser, hubUrl: string, timeoutMs: number): Promise<Marks> {
  const context = await browser.newContext();
  try {
    await context.addInitScript({ content: PAGE_SCRIPT });
    const page = await context.newPage();
    await page.goto(`${hubUrl}/?streamer=${STREAMER_ID}`);
    await page.waitForFunction(done, undefined, { timeout: timeoutMs, polling: 50 });
    return toMarks(await page.evaluate(readMarks));
  } finally {
    await context.close();
  }
}

/**
 * `runs` measured runs after one unmeasured warm-up, a random 0.5-2.5 s apart. Each run ends
 * just after a keyframe (the first frame a joining browser can decode), so without a gap that
 * spans the keyframe interval the next run would arrive at the same point of the interval
 * every time; 2 s covers two intervals of the default (30 frames at 30 fps).
 */
export async function firstFrameRuns(
  browser: Browser,
  hubUrl: string,
  runs: number,
  progress: (line: string) => void,
): Promise<Marks[]> {
  await firstFrameRun(browser, hubUrl, 20_000);
  const results: Marks[] = [];
  for (let i = 0; i < runs; i++) {
    await sleep(500 + Math.random() * 2000);
    const marks = await firstFrameRun(browser, hubUrl, 20_000);
    progress(`first frame run ${i + 1}/${runs}: ${JSON.stringify(marks)}`);
    results.push(marks);
  }
  return results;
}
