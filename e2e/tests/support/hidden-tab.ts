/**
 * Chrome's policy for a background tab, applied to a page where headless Chromium cannot hide
 * one (it reports every page visible, whatever is done to its window). Installed before the
 * page's scripts run; `hide()` then makes `document.visibilityState` "hidden", fires
 * `visibilitychange`, and lets every timer (existing ones too) fire at most once a minute, as
 * Chrome's intensive throttling does after five minutes in the background. Event handlers
 * (socket messages, data-channel messages) run as usual, as they do in a real background tab.
 */
import type { Page } from "@playwright/test";

const THROTTLE_MS = 60_000;

export async function installHiddenTabEmulation(page: Page): Promise<void> {
  await page.addInitScript((throttleMs: number) => {
    const state = { hidden: false, hiddenAt: 0 };
    const nativeSetTimeout = window.setTimeout.bind(window);
    const nativeSetInterval = window.setInterval.bind(window);
    /** While hidden, a callback due now runs only on the next throttle boundary. */
    const throttled =
      (callback: (...args: unknown[]) => void) =>
      (...args: unknown[]): void => {
        if (!state.hidden) {
          callback(...args);
          return;
        }
        const wait = throttleMs - ((performance.now() - state.hiddenAt) % throttleMs);
        nativeSetTimeout(() => {
          callback(...args);
        }, wait);
      };
    window.setTimeout = ((handler: TimerHandler, ms?: number, ...args: unknown[]) =>
      typeof handler === "function"
        ? nativeSetTimeout(throttled(handler as (...a: unknown[]) => void), ms, ...args)
        : nativeSetTimeout(handler, ms, ...args)) as typeof window.setTimeout;
    window.setInterval = ((handler: TimerHandler, ms?: number, ...args: unknown[]) => {
      if (typeof handler !== "function") return nativeSetInterval(handler, ms, ...args);
      let lastRun = 0;
      return nativeSetInterval(
        (...a: unknown[]) => {
          // Hidden: at most one run per throttle period.
          if (state.hidden && performance.now() - lastRun < throttleMs) return;
          lastRun = performance.now();
          (handler as (...b: unknown[]) => void)(...a);
        },
        ms,
        ...args,
      );
    }) as typeof window.setInterval;
    Object.defineProperty(document, "visibilityState", { get: () => (state.hidden ? "hidden" : "visible") });
    Object.defineProperty(document, "hidden", { get: () => state.hidden });
    (window as unknown as { __hideTab: (hidden: boolean) => void }).__hideTab = (hidden: boolean) => {
      state.hidden = hidden;
      state.hiddenAt = performance.now();
      document.dispatchEvent(new Event("visibilitychange"));
    };
  }, THROTTLE_MS);
}

export async function setTabHidden(page: Page, hidden: boolean): Promise<void> {
  await page.evaluate((h) => {
    (window as unknown as { __hideTab: (hidden: boolean) => void }).__hideTab(h);
  }, hidden);
}
