/**
 * When a silent end of a session stops being merely late and is judged dead: the policy, with
 * no timers and no sockets (HeartbeatMonitor applies it on the injected clock).
 *
 * `fixed` is the timeout alone: an end silent for `timeoutMs` is dead. `adaptive` (the default)
 * uses the evidence the hub has to decide sooner, and is never later than `fixed`:
 *
 * 1. **Each end's own history.** A streamer beats every `intervalMs`; a player answers each
 *    relayed ping within its usual answer time. The detector keeps a window of the last beat
 *    gaps (streamer) or answer delays (player) and, as in the φ accrual failure detector
 *    (Hayashibara et al., 2004; Akka, Cassandra), turns "how late is it now" into φ, the
 *    confidence that the beat is not merely late: φ = -log10 P(a healthy beat comes this late)
 *    under a normal model of that history. An end whose φ reaches `PHI_SUSPECT` is suspect. A
 *    regular end is suspect soon after its beat was due; a jittery or lossy one later.
 * 2. **A direct probe** (SWIM's probe on suspicion). The hub asks a suspect end that declared
 *    the `probe` feature for an answer, which comes from its message handler: a hung process or
 *    a frozen tab cannot answer, a slow or lossy link answers late. The end is given
 *    `pauseToleranceMs` to answer (a healthy process may stall that long: GC, swap, a busy
 *    loop). An end that cannot be probed is judged by the timeout only.
 * 3. **The media path, as the other end sees it.** The other end, if it declared `mediaCheck`,
 *    is asked whether media from the suspect end still arrives. Media flowing means the suspect
 *    end is alive and only signaling is broken: it is judged by the timeout (and may resume).
 *    Media dead too, or nobody to ask: it is dead once the probe went unanswered.
 *
 * So under the defaults (5 s beats, 3 s pause tolerance) a hung streamer is judged dead about
 * 8.3 s after its last beat instead of 15 s, and a lossy link whose media still flows is never
 * judged sooner than today.
 */

export type DetectorKind = "adaptive" | "fixed";

export interface DetectorSettings {
  kind: DetectorKind;
  /** The streamers' beat interval. */
  intervalMs: number;
  /** The hard bound: silence this long ends an end whatever the detector thinks. */
  timeoutMs: number;
  /** How long a suspect end that can be probed has to answer. */
  pauseToleranceMs: number;
}

/** φ at which an end is suspect: a healthy end this regular is this late once in 1,000 beats. */
export const PHI_SUSPECT = 3;

/** Samples kept per end: enough for a stable spread, few enough to follow a changing link. */
export const HISTORY_SIZE = 16;

/** Samples needed before the history is trusted over the configured interval. */
export const MIN_SAMPLES = 3;

/**
 * φ for an arrival `elapsedMs` after its reference time, when arrivals have been `meanMs` ±
 * `stdDevMs`: -log10 of the probability that a healthy arrival is later than that. Uses the
 * logistic approximation of the normal distribution's tail that Akka's detector uses (it has no
 * error function to call and stays finite far out in the tail).
 */
export function phi(elapsedMs: number, meanMs: number, stdDevMs: number): number {
  const y = (elapsedMs - meanMs) / stdDevMs;
  const e = Math.exp(-y * (1.5976 + 0.070566 * y * y));
  // P(later) = e / (1 + e) when y > 0; written so neither branch loses precision.
  return elapsedMs > meanMs ? -Math.log10(e / (1 + e)) : -Math.log10(1 - 1 / (1 + e));
}

/** The number of standard deviations past the mean at which φ reaches `threshold`. */
export function deviationsAtPhi(threshold: number): number {
  let low = 0;
  let high = 40;
  for (let i = 0; i < 60; i++) {
    const mid = (low + high) / 2;
    if (phi(mid, 0, 1) < threshold) low = mid;
    else high = mid;
  }
  return high;
}

const SUSPECT_DEVIATIONS = deviationsAtPhi(PHI_SUSPECT);

/** A sliding window of the last samples with their mean and spread; O(1) per sample. */
export class SampleWindow {
  readonly #values: Float64Array;
  #next = 0;
  #count = 0;
  #sum = 0;
  #sumOfSquares = 0;

  constructor(size = HISTORY_SIZE) {
    this.#values = new Float64Array(size);
  }

  get count(): number {
    return this.#count;
  }

  push(value: number): void {
    if (this.#count === this.#values.length) {
      const old = this.#values[this.#next] ?? 0;
      this.#sum -= old;
      this.#sumOfSquares -= old * old;
    } else {
      this.#count++;
    }
    this.#values[this.#next] = value;
    this.#next = (this.#next + 1) % this.#values.length;
    this.#sum += value;
    this.#sumOfSquares += value * value;
  }

  get mean(): number {
    return this.#count === 0 ? 0 : this.#sum / this.#count;
  }

  get stdDev(): number {
    if (this.#count < 2) return 0;
    const mean = this.mean;
    // Running sums can drift a hair below zero; a spread is never negative.
    return Math.sqrt(Math.max(0, this.#sumOfSquares / this.#count - mean * mean));
  }
}

/**
 * How long after its reference time (the last beat for a streamer, the relayed ping for a
 * player) an end becomes suspect under the adaptive detector.
 *
 * @param history beat gaps (streamer) or answer delays (player)
 * @param expect.untrainedMs what to expect before the history is trusted: the interval for a
 *   streamer, the answer grace for a player
 * @param expect.floorMs the mean is never taken as less than this: a streamer's beats are due
 *   one interval apart, however early a few came
 */
export function suspectAfterMs(
  history: SampleWindow,
  expect: { untrainedMs: number; floorMs: number },
  settings: DetectorSettings,
): number {
  // A floor on the spread: a perfectly regular end must not become suspect a millisecond late,
  // and timer granularity alone is a few ms. 2 % of the interval is 100 ms at the default.
  const minStdDevMs = Math.max(20, settings.intervalMs / 50);
  if (history.count < MIN_SAMPLES) return expect.untrainedMs + SUSPECT_DEVIATIONS * minStdDevMs;
  const mean = Math.max(history.mean, expect.floorMs);
  return mean + SUSPECT_DEVIATIONS * Math.max(history.stdDev, minStdDevMs);
}

/** What the other end said about media from a suspect end. */
export type MediaEvidence = "unknown" | "flowing" | "dead";

/**
 * Whether a suspect end that has not answered its probe is dead now, under the adaptive
 * detector. The caller checks the hard bound (`timeoutMs`) itself.
 *
 * @param probed the end was probed (it declared `probe`); false: only the timeout judges it
 * @param mediaAsked the other end was asked about media and its answer is awaited or in
 * @param media what the other end said so far
 */
export function deadAfterProbe(options: {
  settings: DetectorSettings;
  now: number;
  suspectedAt: number;
  probed: boolean;
  mediaAsked: boolean;
  media: MediaEvidence;
}): boolean {
  const { settings, now, suspectedAt, probed, mediaAsked, media } = options;
  if (settings.kind === "fixed" || !probed) return false;
  if (now - suspectedAt <= settings.pauseToleranceMs) return false;
  if (media === "flowing") return false;
  if (media === "dead") return true;
  // Asked and not answered yet: wait for the answer (or the timeout); nobody to ask: the
  // probe alone decides.
  return !mediaAsked;
}
