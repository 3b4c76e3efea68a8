/**
 * Every timing decision in the hub goes through a Clock, so heartbeat logic runs under fake
 * timers in tests (milliseconds instead of seconds) and never reads a peer's clock.
 */
export type TimerHandle = ReturnType<typeof setTimeout>;

export interface Clock {
  /** Monotonic milliseconds; unaffected by wall-clock changes. */
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The process's monotonic clock. Globals are looked up on each call so test fake timers that
 * replace them after import still apply. Timers are unref'd: a deadline never keeps a process alive.
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms);
    handle.unref();
    return handle;
  },
  clearTimeout: (handle) => {
    clearTimeout(handle);
  },
};
