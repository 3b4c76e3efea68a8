/**
 * The ICE probe, the relayed round trip that both protocols share: a player sends its streamer an
 * ICE candidate every interval; the streamer sends the same candidate straight back; the player
 * times the round trip (player -> hub -> streamer -> hub -> player, two trips through the hub).
 * Pixel Streaming relays no heartbeat, so this is its relay RTT; natively it runs beside the
 * relayed ping. The sequence number rides in the candidate's foundation, the one field every hub
 * passes through unchanged (heartline's native schema strips unknown fields).
 */
import { performance } from "node:perf_hooks";

/** A host candidate as a browser writes it, numbered by `seq`. */
export function probeCandidate(seq: number): { candidate: string; sdpMid: string; sdpMLineIndex: number } {
  return {
    candidate: `candidate:${seq} 1 udp 2122260223 127.0.0.1 9 typ host generation 0 ufrag bnch`,
    sdpMid: "0",
    sdpMLineIndex: 0,
  };
}

export type ProbeCandidate = ReturnType<typeof probeCandidate>;

/** One player's probe: at most one candidate in flight; one sent every interval from a random phase. */
export class IceProbe {
  readonly #onRtt: (ms: number) => void;
  #timer: NodeJS.Timeout | undefined;
  #seq = 0;
  #inFlight: { seq: number; sentAt: number } | undefined;

  constructor(onRtt: (ms: number) => void) {
    this.#onRtt = onRtt;
  }

  /** Sends once after a random part of `intervalMs`, then every `intervalMs`, until stop(). */
  start(intervalMs: number, send: (candidate: ProbeCandidate) => void): void {
    this.stop();
    const tick = () => {
      this.#seq += 1;
      this.#inFlight = { seq: this.#seq, sentAt: performance.now() };
      send(probeCandidate(this.#seq));
    };
    this.#timer = setTimeout(() => {
      tick();
      this.#timer = setInterval(tick, intervalMs);
    }, Math.random() * intervalMs);
  }

  /** A candidate came back from the streamer: times it if it is the one in flight. */
  answered(candidate: unknown): void {
    const text = (candidate as { candidate?: unknown } | undefined)?.candidate;
    const seq = typeof text === "string" ? Number(/^candidate:(\d+) /.exec(text)?.[1]) : Number.NaN;
    if (this.#inFlight?.seq !== seq) return;
    this.#onRtt(performance.now() - this.#inFlight.sentAt);
    this.#inFlight = undefined;
  }

  stop(): void {
    clearTimeout(this.#timer);
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
