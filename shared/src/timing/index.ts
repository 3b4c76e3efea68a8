/** Time for every package (browser-safe): the injectable clock and the retry backoff. */
export { Backoff, type BackoffOptions } from "./Backoff.js";
export { systemClock, unrefClock, type Clock, type TimerHandle } from "./clock.js";
