/**
 * The recent past the dashboard shows: each open session's last heartbeat RTT samples and the
 * last sessions that ended, with why. Bounded rings; forgotten with the session.
 */
import type { RttHistory, SessionEnding } from "@heartline/shared/admin";
import type { Clock } from "@heartline/shared/timing";
import type { Session } from "../sessions/Session.js";
import type { SessionRegistry } from "../sessions/SessionRegistry.js";

export interface SessionHistoryOptions {
  registry: SessionRegistry;
  clock: Clock;
  /** RTT samples kept per session; default 120. */
  rttSamples?: number;
  /** Endings kept; default 100. */
  endings?: number;
}

export class SessionHistory {
  readonly #rtt = new Map<string, RttHistory>();
  readonly #endings: SessionEnding[] = [];
  readonly #clock: Clock;
  readonly #maxSamples: number;
  readonly #maxEndings: number;
  readonly #listeners = new Set<() => void>();

  constructor({ registry, clock, rttSamples = 120, endings = 100 }: SessionHistoryOptions) {
    this.#clock = clock;
    this.#maxSamples = rttSamples;
    this.#maxEndings = endings;
    registry.observer.on("sessionClosed", (session) => {
      this.#ended(session);
    });
  }

  /** A streamer reported the session's heartbeat RTT. */
  rtt(session: Session, rttMs: number): void {
    let history = this.#rtt.get(session.id);
    if (!history) {
      if (session.state === "closed") return;
      history = { t: [], rttMs: [] };
      this.#rtt.set(session.id, history);
    }
    history.t.push(Date.now());
    history.rttMs.push(rttMs);
    if (history.t.length > this.#maxSamples) {
      history.t.shift();
      history.rttMs.shift();
    }
  }

  rttOf(sessionId: string): RttHistory {
    const history = this.#rtt.get(sessionId);
    return history ? { t: [...history.t], rttMs: [...history.rttMs] } : { t: [], rttMs: [] };
  }

  /** Most recent first. */
  endings(): SessionEnding[] {
    return [...this.#endings];
  }

  /** Called after each ending is recorded. */
  onEnding(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #ended(session: Session): void {
    this.#rtt.delete(session.id);
    this.#endings.unshift({
      sessionId: session.id,
      streamerId: session.streamerId,
      playerId: session.player.id,
      reason: session.closeReason ?? "hub-shutdown",
      endedAt: new Date().toISOString(),
      ageMs: Math.max(0, Math.round(this.#clock.now() - session.startedAt)),
    });
    if (this.#endings.length > this.#maxEndings) this.#endings.length = this.#maxEndings;
    for (const listener of this.#listeners) listener();
  }
}
