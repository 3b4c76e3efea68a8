/**
 * A Clock whose time moves only when a test says so, for logic that takes an injected clock
 * (STYLE.md, "Inject the clock"). Browser-safe, unlike the rest of this folder's Node helpers.
 */
import type { Clock, TimerHandle } from "../timing/index.js";

interface Timer {
  at: number;
  /** Order of arming, so timers due at the same time run first-armed first. */
  seq: number;
  callback: () => void;
  /** Set for an interval: its period. */
  everyMs?: number;
}

export class FakeClock implements Clock {
  #time: number;
  #seq = 0;
  readonly #timers = new Map<number, Timer>();

  /** @param startMs what `now()` reads before the first `advance` (default 0). */
  constructor(startMs = 0) {
    this.#time = startMs;
  }

  now(): number {
    return this.#time;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    return this.#arm({ at: this.#time + Math.max(0, ms), callback });
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as unknown as number);
  }

  setInterval(callback: () => void, ms: number): TimerHandle {
    // Like the runtimes: an interval never fires more than once per millisecond.
    const everyMs = Math.max(1, ms);
    return this.#arm({ at: this.#time + everyMs, callback, everyMs });
  }

  clearInterval(handle: TimerHandle): void {
    this.clearTimeout(handle);
  }

  /** Timers armed and not yet run or cleared (an interval counts until cleared). */
  get pending(): number {
    return this.#timers.size;
  }

  /**
   * Moves time on by `ms`, running every timer that falls due on the way in order of due time,
   * with `now()` reading each one's due time while it runs; timers armed by those callbacks run
   * too if they fall due within the window.
   */
  advance(ms: number): void {
    const until = this.#time + ms;
    for (;;) {
      const due = this.#nextDue(until);
      if (due === undefined) break;
      const [id, timer] = due;
      this.#time = timer.at;
      if (timer.everyMs === undefined) this.#timers.delete(id);
      else this.#timers.set(id, { ...timer, at: timer.at + timer.everyMs, seq: ++this.#seq });
      timer.callback();
    }
    this.#time = until;
  }

  #arm(timer: Omit<Timer, "seq">): TimerHandle {
    const seq = ++this.#seq;
    this.#timers.set(seq, { ...timer, seq });
    return seq as unknown as TimerHandle;
  }

  #nextDue(until: number): [number, Timer] | undefined {
    let next: [number, Timer] | undefined;
    for (const entry of this.#timers) {
      const timer = entry[1];
      if (timer.at > until) continue;
      if (
        next === undefined ||
        timer.at < next[1].at ||
        (timer.at === next[1].at && timer.seq < next[1].seq)
      ) {
        next = entry;
      }
    }
    return next;
  }
}
