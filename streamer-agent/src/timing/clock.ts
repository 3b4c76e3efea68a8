/**
 * The one door to time for heartbeat and retry logic, so tests drive it with fake timers
 * instead of waiting in real seconds (see STYLE.md, "Inject the clock").
 */
export type TimerHandle = ReturnType<typeof globalThis.setTimeout>;

export interface Clock {
  /** Monotonic milliseconds; never compared with another machine's clock. */
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  setInterval(callback: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle): void;
}

/**
 * The process clock. Each call looks the global up at call time, so vitest's fake timers
 * (installed after this module loaded) still take effect.
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => {
    globalThis.clearTimeout(handle);
  },
  setInterval: (callback, ms) => globalThis.setInterval(callback, ms),
  clearInterval: (handle) => {
    globalThis.clearInterval(handle);
  },
};
