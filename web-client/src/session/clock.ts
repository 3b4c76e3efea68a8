/**
 * The one way the player reads time and sets timers, so session logic runs under a fake clock
 * in tests. Only recovery delays go through here: pings are answered from the message handler,
 * never from a timer (hidden tabs throttle timers).
 */
export interface Clock {
  /** Monotonic milliseconds (`performance.now()` in the browser). */
  now(): number;
  setTimeout(callback: () => void, ms: number): number;
  clearTimeout(handle: number): void;
}

export const browserClock: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => window.setTimeout(callback, ms),
  clearTimeout: (handle) => {
    window.clearTimeout(handle);
  },
};
