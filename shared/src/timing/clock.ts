/**
 * The one door to time for heartbeat, timeout and retry logic in every package, so tests drive
 * it with a fake clock or fake timers instead of waiting in real seconds (STYLE.md, "Inject the
 * clock"). Browser-safe: nothing here imports from Node.
 */

declare const timerHandle: unique symbol;

/**
 * What a Clock's `setTimeout`/`setInterval` return: opaque (a Node `Timeout`, a browser number,
 * a fake clock's id), only good for handing back to the matching `clear…`.
 */
export interface TimerHandle {
  readonly [timerHandle]: true;
}

export interface Clock {
  /** Monotonic milliseconds; unaffected by wall-clock changes, never compared across machines. */
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  setInterval(callback: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle): void;
}

type NativeHandle = Parameters<typeof globalThis.clearTimeout>[0];
const opaque = (handle: unknown): TimerHandle => handle as TimerHandle;
const native = (handle: TimerHandle): NativeHandle => handle as unknown as NativeHandle;

/**
 * The runtime's clock (`performance.now()` and the global timers), in Node and in the browser.
 * Globals are looked up on each call, so fake timers installed after this module loaded (vitest's)
 * still apply. Its timers keep a Node process alive, like plain `setTimeout`; see `unrefClock`.
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => opaque(globalThis.setTimeout(callback, ms)),
  clearTimeout: (handle) => {
    globalThis.clearTimeout(native(handle));
  },
  setInterval: (callback, ms) => opaque(globalThis.setInterval(callback, ms)),
  clearInterval: (handle) => {
    globalThis.clearInterval(native(handle));
  },
};

/** Unrefs a Node timer; browser timers (numbers) have nothing to unref. */
function unref(handle: TimerHandle): TimerHandle {
  const timer: unknown = handle;
  if (typeof timer === "object" && timer !== null && "unref" in timer && typeof timer.unref === "function") {
    (timer as { unref(): unknown }).unref();
  }
  return handle;
}

/**
 * `systemClock` whose timers are unref'd: a deadline never keeps a Node process alive (the hub's
 * clock). In a browser it is the same as `systemClock`.
 */
export const unrefClock: Clock = {
  now: () => systemClock.now(),
  setTimeout: (callback, ms) => unref(systemClock.setTimeout(callback, ms)),
  clearTimeout: (handle) => {
    systemClock.clearTimeout(handle);
  },
  setInterval: (callback, ms) => unref(systemClock.setInterval(callback, ms)),
  clearInterval: (handle) => {
    systemClock.clearInterval(handle);
  },
};
