/**
 * Deadlines for both ends of every session, on an injected clock. Knows nothing of sockets:
 * the signaling layer reports traffic, and the monitor tells its listener when an end turns
 * `stale` (missed a beat), `lapsed` (silent past the timeout) or `fresh` again.
 *
 * Cost: a beat is O(1) and touches no timer (it stores a timestamp). Each session owns one
 * timer, armed for its earliest threshold; when it fires early (traffic moved the threshold)
 * it re-arms for what is left. So timers fire about once per interval per session, not per
 * beat, and there is never more than one timer per session.
 *
 * Blame: the streamer drives the heartbeat, so its silence always counts. The player can only
 * answer pings it receives, so its silence counts only while it owes an answer (a ping was
 * relayed to it after its last message). When both are silent the streamer is blamed. A player
 * that starts owing after a quiet spell (the streamer sent no ping for a while) gets at least
 * `answerGraceMs` to answer the ping that ended it.
 *
 * An end held by another hub node (multi-node) is that node's to judge: a session tracked with
 * `{ streamerElsewhere: true }` never blames its streamer here, and a player elsewhere is never
 * judged because pings are not relayed to it from here (`pingRelayed` is not called).
 *
 * A lapse is reported once per end; the monitor keeps watching until `untrack`, so a caller that
 * does not tear down (heartbeat.enforce=false) still hears when the end comes back.
 *
 * Detection: with the `fixed` detector an end lapses after `timeoutMs` of silence. With
 * `adaptive` (detector.ts) an end also becomes suspect when its beat is later than its own
 * history makes likely; the listener then probes it and asks the other end about media, and the
 * end lapses early if the probe goes unanswered for `pauseToleranceMs` and the media evidence
 * does not show it alive. The timeout stays the hard bound.
 */
import type { Clock, TimerHandle } from "@heartline/shared/timing";
import {
  deadAfterProbe,
  SampleWindow,
  suspectAfterMs,
  type DetectorKind,
  type DetectorSettings,
  type MediaEvidence,
} from "./detector.js";

export type End = "streamer" | "player";

/** fresh: on time. stale: missed a beat. lapsed: silent past the timeout. */
export type EndHealth = "fresh" | "stale" | "lapsed";

export interface HeartbeatTimings {
  /** Silence longer than this ends the session. */
  timeoutMs: number;
  /** Silence longer than this marks the end stale (a missed beat); ignored if >= timeoutMs. */
  staleAfterMs: number;
  /** The least time a player gets to answer the first ping after a gap in pings. */
  answerGraceMs: number;
  /** `fixed`: the timeout alone; `adaptive`: also suspicion, probe and media evidence. */
  detector: DetectorKind;
  /** The streamers' beat interval. */
  intervalMs: number;
  /** adaptive: how long a suspect end that was probed has to answer. */
  pauseToleranceMs: number;
}

/** What the listener did about a suspect end. */
export interface SuspicionResponse {
  /** The end was sent a probe it can answer (it declared the feature and is reachable). */
  probed: boolean;
  /** The other end was asked whether media from this end still arrives. */
  mediaAsked: boolean;
}

export interface HeartbeatListener {
  stale(sessionId: string, end: End): void;
  /** An end that was stale or lapsed was heard from again. */
  fresh(sessionId: string, end: End): void;
  lapsed(sessionId: string, end: End): void;
  /**
   * adaptive: the end is later than its history makes likely. Probe it (once per peer is
   * enough) and ask the other end about media; say what was done.
   */
  suspect(sessionId: string, end: End): SuspicionResponse;
}

interface EndClock {
  /** Clock time of the last message from this end for this session. */
  at: number;
  health: EndHealth;
  /**
   * Not stale before this clock time: a player that starts owing after a quiet spell has
   * answerGraceMs to answer before it is even late (-Infinity: no such floor).
   */
  staleNotBefore: number;
  /** adaptive: beat gaps (streamer) or answer delays (player). */
  readonly history: SampleWindow;
  /** Clock time of the last beat (ping or pong) from this end (NaN: none yet). */
  lastBeatAt: number;
  /** adaptive: when it last answered a probe (-Infinity: never); suspicion restarts from there. */
  answeredAt: number;
  /** adaptive: when this end became suspect (Infinity: it is not). */
  suspectedAt: number;
  probed: boolean;
  mediaAsked: boolean;
  media: MediaEvidence;
}

function endClock(now: number): EndClock {
  return {
    at: now,
    health: "fresh",
    staleNotBefore: Number.NEGATIVE_INFINITY,
    history: new SampleWindow(),
    lastBeatAt: Number.NaN,
    answeredAt: Number.NEGATIVE_INFINITY,
    suspectedAt: Number.POSITIVE_INFINITY,
    probed: false,
    mediaAsked: false,
    media: "unknown",
  };
}

function clearSuspicion(clock: EndClock): void {
  clock.suspectedAt = Number.POSITIVE_INFINITY;
  clock.probed = false;
  clock.mediaAsked = false;
  clock.media = "unknown";
}

interface Entry {
  readonly id: string;
  readonly streamer: EndClock;
  readonly player: EndClock;
  /** A ping was relayed to the player after its last message. */
  playerOwes: boolean;
  /** Clock time of the first ping relayed to the player after its last message. */
  owedSince: number;
  /** The streamer is judged by another hub node, not here. */
  readonly streamerElsewhere: boolean;
  timer: TimerHandle | undefined;
  /** Clock time the timer fires at (Infinity when none is armed). */
  firesAt: number;
}

export class HeartbeatMonitor {
  readonly #entries = new Map<string, Entry>();
  readonly #clock: Clock;
  readonly #listener: HeartbeatListener;
  #timings: HeartbeatTimings;

  constructor(options: { timings: HeartbeatTimings; clock: Clock; listener: HeartbeatListener }) {
    this.#timings = { ...options.timings };
    this.#clock = options.clock;
    this.#listener = options.listener;
  }

  get timings(): Readonly<HeartbeatTimings> {
    return this.#timings;
  }

  /** Number of sessions under watch. */
  get size(): number {
    return this.#entries.size;
  }

  /** New timings apply to every session at once (re-arms every timer: O(sessions), once). */
  reconfigure(timings: HeartbeatTimings): void {
    this.#timings = { ...timings };
    const now = this.#clock.now();
    for (const entry of this.#entries.values()) {
      this.#disarm(entry);
      this.#evaluate(entry, now);
    }
  }

  /**
   * Starts watching a session; both ends' silence is counted from now.
   * @param options.streamerElsewhere the streamer is on another hub node, which judges it.
   */
  track(sessionId: string, options: { streamerElsewhere?: boolean } = {}): void {
    if (this.#entries.has(sessionId)) return;
    const now = this.#clock.now();
    const entry: Entry = {
      id: sessionId,
      streamer: endClock(now),
      player: endClock(now),
      playerOwes: false,
      owedSince: now,
      streamerElsewhere: options.streamerElsewhere ?? false,
      timer: undefined,
      firesAt: Number.POSITIVE_INFINITY,
    };
    this.#entries.set(sessionId, entry);
    this.#arm(entry, now);
  }

  /** Stops watching; idempotent. */
  untrack(sessionId: string): void {
    const entry = this.#entries.get(sessionId);
    if (!entry) return;
    this.#disarm(entry);
    this.#entries.delete(sessionId);
  }

  /**
   * Any valid message from `end` for this session proves that end alive. `beat`: it was the
   * heartbeat itself (a streamer's ping, a player's pong), which the adaptive detector learns from.
   */
  heard(sessionId: string, end: End, beat = false): void {
    const entry = this.#entries.get(sessionId);
    if (!entry) return;
    const clock = entry[end];
    const now = this.#clock.now();
    if (beat) {
      if (end === "player") {
        if (entry.playerOwes) clock.history.push(now - entry.owedSince);
      } else if (!Number.isNaN(clock.lastBeatAt)) {
        clock.history.push(now - clock.lastBeatAt);
      }
      clock.lastBeatAt = now;
    }
    clock.at = now;
    clock.staleNotBefore = Number.NEGATIVE_INFINITY;
    if (end === "player") entry.playerOwes = false;
    const wasSuspect = clock.suspectedAt !== Number.POSITIVE_INFINITY;
    if (wasSuspect) clearSuspicion(clock);
    if (clock.health !== "fresh" || wasSuspect) {
      // Rare path (an end coming back): its next threshold is new, so re-arm from scratch.
      const wasFresh = clock.health === "fresh";
      clock.health = "fresh";
      this.#disarm(entry);
      this.#arm(entry, now);
      if (!wasFresh) this.#listener.fresh(sessionId, end);
    }
  }

  /**
   * A suspect `end` answered its probe: it is running, so its suspicion ends. Its silence on
   * this session still counts (the probe is not a beat): it is suspected and probed again if it
   * stays silent, and the timeout still applies.
   */
  probeAnswered(sessionId: string, end: End): void {
    const entry = this.#entries.get(sessionId);
    const clock = entry?.[end];
    if (!entry || !clock || clock.suspectedAt === Number.POSITIVE_INFINITY) return;
    clearSuspicion(clock);
    clock.answeredAt = this.#clock.now();
    this.#disarm(entry);
    this.#arm(entry, clock.answeredAt);
  }

  /**
   * The other end's answer about media from `end` while `end` is suspect: `flowing` keeps it
   * alive until the timeout, `dead` lets an unanswered probe end it.
   */
  media(sessionId: string, end: End, evidence: MediaEvidence): void {
    const entry = this.#entries.get(sessionId);
    if (!entry) return;
    const clock = entry[end];
    if (clock.suspectedAt === Number.POSITIVE_INFINITY) return;
    clock.media = evidence;
    this.#disarm(entry);
    this.#evaluate(entry, this.#clock.now());
  }

  /** Whether `end` is suspect now (adaptive detector). */
  suspect(sessionId: string, end: End): boolean {
    const clock = this.#entries.get(sessionId)?.[end];
    return clock !== undefined && clock.suspectedAt !== Number.POSITIVE_INFINITY;
  }

  /** A ping was relayed to the player: from now on its silence counts against it. */
  pingRelayed(sessionId: string): void {
    const entry = this.#entries.get(sessionId);
    if (!entry || entry.playerOwes) return;
    entry.playerOwes = true;
    entry.owedSince = this.#clock.now();
    // In steady state the player answered the previous ping an interval ago and nothing changes.
    // After a quiet spell it had nothing to answer: it still gets answerGraceMs for this ping.
    const now = this.#clock.now();
    const { timeoutMs, answerGraceMs } = this.#timings;
    const graced = now - timeoutMs + answerGraceMs;
    if (graced > entry.player.at) {
      // After a quiet spell its old silence would make it stale at once, then fresh again when
      // it answers a millisecond later: it is not late before its grace is over either.
      entry.player.at = graced;
      entry.player.staleNotBefore = now + answerGraceMs;
    }
    // The player's next threshold may come before the armed timer; keep teardown on time.
    const next = this.#nextThreshold(entry, "player");
    if (next < entry.firesAt - 1) {
      this.#disarm(entry);
      this.#arm(entry, now);
    }
  }

  /** The health of one end of a session (undefined when the session is not watched). */
  health(sessionId: string, end: End): EndHealth | undefined {
    return this.#entries.get(sessionId)?.[end].health;
  }

  /** Stops every timer; the monitor is empty afterwards. */
  clear(): void {
    for (const entry of this.#entries.values()) this.#disarm(entry);
    this.#entries.clear();
  }

  /** When this end crosses its next threshold (Infinity: nothing pending). */
  #nextThreshold(entry: Entry, end: End): number {
    const clock = entry[end];
    const { timeoutMs, staleAfterMs } = this.#timings;
    if (clock.health === "lapsed") return Number.POSITIVE_INFINITY;
    let next = clock.at + timeoutMs;
    if (clock.health === "fresh" && staleAfterMs < timeoutMs) {
      next = Math.min(next, Math.max(clock.at + staleAfterMs, clock.staleNotBefore));
    }
    if (this.#timings.detector === "adaptive") {
      if (clock.suspectedAt === Number.POSITIVE_INFINITY) next = Math.min(next, this.#suspectAt(entry, end));
      else if (clock.probed) next = Math.min(next, clock.suspectedAt + this.#timings.pauseToleranceMs);
    }
    return next;
  }

  /** adaptive: when `end` becomes suspect if nothing is heard from it before. */
  #suspectAt(entry: Entry, end: End): number {
    const clock = entry[end];
    const settings = this.#detectorSettings();
    if (end === "streamer") {
      const { intervalMs } = this.#timings;
      const after = suspectAfterMs(clock.history, { untrainedMs: intervalMs, floorMs: intervalMs }, settings);
      return Math.max(clock.at, clock.answeredAt) + after;
    }
    // A player is judged from the ping it owes an answer to, never before its grace is over.
    const after = suspectAfterMs(
      clock.history,
      { untrainedMs: this.#timings.answerGraceMs, floorMs: 0 },
      settings,
    );
    return Math.max(Math.max(entry.owedSince, clock.answeredAt) + after, clock.staleNotBefore);
  }

  #detectorSettings(): DetectorSettings {
    const { detector, intervalMs, timeoutMs, pauseToleranceMs } = this.#timings;
    return { kind: detector, intervalMs, timeoutMs, pauseToleranceMs };
  }

  #arm(entry: Entry, now: number): void {
    const streamerNext = entry.streamerElsewhere
      ? Number.POSITIVE_INFINITY
      : this.#nextThreshold(entry, "streamer");
    const playerNext = entry.playerOwes ? this.#nextThreshold(entry, "player") : Number.POSITIVE_INFINITY;
    const threshold = Math.min(streamerNext, playerNext);
    if (threshold === Number.POSITIVE_INFINITY) return;
    // "Longer than": fire one millisecond past the threshold.
    const delay = Math.max(0, Math.floor(threshold - now)) + 1;
    entry.firesAt = now + delay;
    entry.timer = this.#clock.setTimeout(() => {
      entry.timer = undefined;
      entry.firesAt = Number.POSITIVE_INFINITY;
      if (this.#entries.get(entry.id) === entry) this.#evaluate(entry, this.#clock.now());
    }, delay);
  }

  #disarm(entry: Entry): void {
    if (entry.timer !== undefined) this.#clock.clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.firesAt = Number.POSITIVE_INFINITY;
  }

  /** Moves each end to the health its silence calls for, reports changes, re-arms. */
  #evaluate(entry: Entry, now: number): void {
    const streamerChange = entry.streamerElsewhere ? undefined : this.#advance(entry, "streamer", now);
    // While the streamer is past its timeout the player is never blamed for the silence.
    const playerChange =
      entry.playerOwes && entry.streamer.health !== "lapsed"
        ? this.#advance(entry, "player", now)
        : undefined;
    if (streamerChange === "suspect" || playerChange === "suspect") {
      // The listener probes and asks; what it did decides how the suspicion can end.
      for (const end of ["streamer", "player"] as const) {
        if ((end === "streamer" ? streamerChange : playerChange) !== "suspect") continue;
        const response = this.#listener.suspect(entry.id, end);
        if (this.#entries.get(entry.id) !== entry) return;
        entry[end].probed = response.probed;
        entry[end].mediaAsked = response.mediaAsked;
      }
    }
    this.#arm(entry, now);
    if (streamerChange !== undefined && streamerChange !== "suspect")
      this.#listener[streamerChange](entry.id, "streamer");
    if (playerChange !== undefined && playerChange !== "suspect" && this.#entries.get(entry.id) === entry)
      this.#listener[playerChange](entry.id, "player");
  }

  #advance(entry: Entry, end: End, now: number): "stale" | "lapsed" | "suspect" | undefined {
    const clock = entry[end];
    const silent = now - clock.at;
    const { timeoutMs, staleAfterMs } = this.#timings;
    if (clock.health === "lapsed") return undefined;
    if (silent > timeoutMs) {
      clock.health = "lapsed";
      return "lapsed";
    }
    if (this.#timings.detector === "adaptive") {
      if (clock.suspectedAt === Number.POSITIVE_INFINITY) {
        if (now > this.#suspectAt(entry, end)) {
          clock.suspectedAt = now;
          return "suspect";
        }
      } else if (
        deadAfterProbe({
          settings: this.#detectorSettings(),
          now,
          suspectedAt: clock.suspectedAt,
          probed: clock.probed,
          mediaAsked: clock.mediaAsked,
          media: clock.media,
        })
      ) {
        clock.health = "lapsed";
        return "lapsed";
      }
    }
    if (
      silent > staleAfterMs &&
      staleAfterMs < timeoutMs &&
      clock.health === "fresh" &&
      now > clock.staleNotBefore
    ) {
      clock.health = "stale";
      return "stale";
    }
    return undefined;
  }
}
