/**
 * What the tests read from the player page: its debug handle (`window.heartline`), the
 * WebRTC stats of its peer connection, and the pixels of its video.
 */
import type { Page } from "@playwright/test";

interface PlayerHandle {
  state: string;
  sessionId: string | null;
  closeReason: string | null;
  pc: RTCPeerConnection | null;
  pingsReceived: number;
  lastPingAt: number | null;
  config: { heartbeat: { intervalMs: number; timeoutMs: number; resumeGraceMs: number } } | null;
  heartbeatRttMs: number | null;
  mediaRttMs: number | null;
  mediaPingsReceived: number;
  resumes: number;
}
declare global {
  interface Window {
    heartline?: PlayerHandle;
  }
}

export async function openPlayer(page: Page, hubUrl: string, streamerId: string): Promise<void> {
  await page.goto(`${hubUrl}/?streamer=${encodeURIComponent(streamerId)}`);
}

export async function waitForState(page: Page, state: string, timeoutMs = 20_000): Promise<void> {
  await page.waitForFunction((s) => window.heartline?.state === s, state, { timeout: timeoutMs });
}

export function handle(page: Page): Promise<Omit<PlayerHandle, "pc">> {
  return page.evaluate(() => {
    const h = window.heartline;
    if (!h) throw new Error("window.heartline is missing");
    const { pc: _pc, ...rest } = h;
    return JSON.parse(JSON.stringify(rest)) as Omit<PlayerHandle, "pc">;
  });
}

/** inbound-rtp video stats of the current peer connection (0 frames when there is none). */
export function videoStats(
  page: Page,
): Promise<{ framesDecoded: number; frameWidth: number; codec: string }> {
  return page.evaluate(async () => {
    const pc = window.heartline?.pc;
    if (!pc) return { framesDecoded: 0, frameWidth: 0, codec: "" };
    const stats = await pc.getStats();
    let framesDecoded = 0;
    let frameWidth = 0;
    let codecId = "";
    stats.forEach(
      (report: {
        type: string;
        kind?: string;
        framesDecoded?: number;
        frameWidth?: number;
        codecId?: string;
      }) => {
        if (report.type === "inbound-rtp" && report.kind === "video") {
          framesDecoded = report.framesDecoded ?? 0;
          frameWidth = report.frameWidth ?? 0;
          codecId = report.codecId ?? "";
        }
      },
    );
    const codec = codecId ? ((stats.get(codecId) as { mimeType?: string } | undefined)?.mimeType ?? "") : "";
    return { framesDecoded, frameWidth, codec };
  });
}

/** Waits for the next frame the <video> presents; resolves false if none comes in time. */
export function presentsFrames(page: Page, timeoutMs = 5000): Promise<boolean> {
  return page.evaluate(
    (ms) =>
      new Promise<boolean>((resolve) => {
        const video = document.querySelector("video");
        if (!video) {
          resolve(false);
          return;
        }
        const timer = setTimeout(() => {
          resolve(false);
        }, ms);
        video.requestVideoFrameCallback(() => {
          clearTimeout(timer);
          resolve(true);
        });
      }),
    timeoutMs,
  );
}

/**
 * Spread of the luminance of the video's current frame (0-255 scale). A black, blank or
 * single-colour picture is near 0; the test pattern is far above it.
 */
export function videoLuminanceSpread(page: Page): Promise<number> {
  return page.evaluate(() => {
    const video = document.querySelector("video");
    if (!video || video.videoWidth === 0) return 0;
    const canvas = document.createElement("canvas");
    canvas.width = 160;
    canvas.height = 90;
    const ctx = canvas.getContext("2d");
    if (!ctx) return 0;
    ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
    const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    let sum = 0;
    let sumSq = 0;
    const n = data.length / 4;
    for (let i = 0; i < data.length; i += 4) {
      const y = 0.299 * (data[i] ?? 0) + 0.587 * (data[i + 1] ?? 0) + 0.114 * (data[i + 2] ?? 0);
      sum += y;
      sumSq += y * y;
    }
    const mean = sum / n;
    return Math.sqrt(Math.max(0, sumSq / n - mean * mean));
  });
}
