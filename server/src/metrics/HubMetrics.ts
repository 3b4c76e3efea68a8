/**
 * The hub's Prometheus metrics (prom-client), one registry per hub so tests can run several.
 * Gauges are read from the session registry when scraped; counters follow the registry's
 * `observer` events and the signaling probe, never the control flow.
 *
 * Names follow Prometheus conventions: `heartline_` prefix, base units (seconds), `_total` on
 * counters. docs/api.md lists them.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { ERROR_CODES, HandshakeError, SESSION_CLOSE_REASONS, type ErrorCode } from "@heartline/shared";
import type { SessionRegistry } from "../sessions/SessionRegistry.js";

const SESSION_STATES = ["connecting", "live", "stale"] as const;

export interface HubMetricsOptions {
  registry: SessionRegistry;
  /** Sockets connected to the dashboard namespace, read when scraped. */
  adminSockets?: () => number;
  /** Also export Node's process metrics (`process_*`, `nodejs_*`); default true. */
  processMetrics?: boolean;
  /**
   * The sizes of the hub's internal maps by name, read when scraped: what a leak check compares
   * with the peers and sessions that exist.
   */
  internals?: () => Record<string, number>;
  /** Multi-node mode: the cluster's state, read when scraped. */
  cluster?: {
    linkUp(): boolean;
    otherNodes(): number;
    droppedPublishes(): number;
    /** Messages from Redis dropped by the cluster's checks, by reason (ClusterBus). */
    rejected(): ReadonlyMap<string, number>;
  };
  /** The Pixel Streaming endpoint's open sockets, read when scraped (pixelStreaming.enabled). */
  pixelStreaming?: { sockets(): { streamer: number; player: number } };
}

export class HubMetrics {
  readonly register = new Registry();
  readonly #endings: Counter<"reason">;
  readonly #rejected: Counter<"code">;
  readonly #reloads: Counter<"result">;
  readonly #processErrors: Counter<"kind">;
  readonly #handshakeRefusals: Counter<"code">;
  readonly #heartbeatRtt: Histogram;
  readonly #relayLatency: Histogram;
  readonly #stalledReaders: Counter<"protocol">;
  readonly #psRelayed: Counter<"from"> | undefined;
  readonly #psDropped: Counter<"from" | "reason"> | undefined;

  constructor({
    registry,
    adminSockets = () => 0,
    processMetrics = true,
    cluster,
    pixelStreaming,
    internals,
  }: HubMetricsOptions) {
    const register = this.register;
    if (pixelStreaming) {
      new Gauge({
        name: "heartline_ps_sockets",
        help: "Pixel Streaming WebSockets open now, by role (streamers before they identify included)",
        labelNames: ["role"],
        registers: [register],
        collect() {
          const counts = pixelStreaming.sockets();
          this.set({ role: "streamer" }, counts.streamer);
          this.set({ role: "player" }, counts.player);
        },
      });
      this.#psRelayed = new Counter({
        name: "heartline_ps_relayed_total",
        help: "Pixel Streaming messages relayed to the other end of a session, by the sender's role",
        labelNames: ["from"],
        registers: [register],
      });
      this.#psDropped = new Counter({
        name: "heartline_ps_dropped_total",
        help: "Pixel Streaming messages dropped (not-json, invalid, rate-limited), by the sender's role",
        labelNames: ["from", "reason"],
        registers: [register],
      });
      for (const from of ["streamer", "player"]) {
        this.#psRelayed.inc({ from }, 0);
        for (const reason of ["not-json", "invalid", "rate-limited"])
          this.#psDropped.inc({ from, reason }, 0);
      }
    }

    if (cluster) {
      new Gauge({
        name: "heartline_cluster_redis_up",
        help: "1 while this node reaches Redis (multi-node mode), 0 during an outage",
        registers: [register],
        collect() {
          this.set(cluster.linkUp() ? 1 : 0);
        },
      });
      new Gauge({
        name: "heartline_cluster_other_nodes",
        help: "Other hub nodes this node hears beating (multi-node mode)",
        registers: [register],
        collect() {
          this.set(cluster.otherNodes());
        },
      });
      new Counter({
        name: "heartline_cluster_dropped_publishes_total",
        help: "Publishes to Redis dropped because it was unreachable (multi-node mode)",
        registers: [register],
        collect() {
          // The link keeps the count; the counter shows it.
          this.reset();
          this.inc(cluster.droppedPublishes());
        },
      });
      new Counter({
        name: "heartline_cluster_rejected_total",
        help: "Messages from Redis dropped by the cluster's checks (bad signature, replay, invalid...), by reason",
        labelNames: ["reason"],
        registers: [register],
        collect() {
          this.reset();
          for (const [reason, count] of cluster.rejected()) this.inc({ reason }, count);
        },
      });
    }
    new Gauge({
      name: "heartline_internal_entries",
      help: "Entries in the hub's internal maps, by map (each follows the peers and sessions that exist; one that only grows is a leak)",
      labelNames: ["map"],
      registers: [register],
      collect() {
        const sizes = { ...registry.internals(), ...internals?.() };
        for (const [map, size] of Object.entries(sizes)) this.set({ map }, size);
      },
    });
    new Gauge({
      name: "heartline_connected_sockets",
      help: "Sockets connected now, by role (admin: dashboards); away peers are not counted",
      labelNames: ["role"],
      registers: [register],
      collect() {
        const counts = { streamer: 0, player: 0 };
        for (const peer of registry.peers()) if (!peer.away) counts[peer.role]++;
        this.set({ role: "streamer" }, counts.streamer);
        this.set({ role: "player" }, counts.player);
        this.set({ role: "admin" }, adminSockets());
      },
    });
    new Gauge({
      name: "heartline_sessions",
      help: "Open sessions, by state",
      labelNames: ["state"],
      registers: [register],
      collect() {
        const counts = { connecting: 0, live: 0, stale: 0 };
        for (const session of registry.sessions()) {
          if (session.state !== "pending" && session.state !== "closed") counts[session.state]++;
        }
        for (const state of SESSION_STATES) this.set({ state }, counts[state]);
      },
    });
    this.#endings = new Counter({
      name: "heartline_session_endings_total",
      help: "Sessions ended, by reason",
      labelNames: ["reason"],
      registers: [register],
    });
    this.#rejected = new Counter({
      name: "heartline_rejected_messages_total",
      help: "Messages refused with an error, by error code",
      labelNames: ["code"],
      registers: [register],
    });
    this.#handshakeRefusals = new Counter({
      name: "heartline_handshake_refusals_total",
      help: "Connections refused at the handshake, by code (unauthorized, origin-not-allowed, ...)",
      labelNames: ["code"],
      registers: [register],
    });
    for (const code of Object.values(HandshakeError)) this.#handshakeRefusals.inc({ code }, 0);
    this.#stalledReaders = new Counter({
      name: "heartline_stalled_readers_total",
      help: "Sockets disconnected because their outbound buffer passed limits.maxBufferedBytes, by wire protocol",
      labelNames: ["protocol"],
      registers: [register],
    });
    this.#stalledReaders.inc({ protocol: "heartline" }, 0);
    if (pixelStreaming) this.#stalledReaders.inc({ protocol: "pixelstreaming" }, 0);
    this.#processErrors = new Counter({
      name: "heartline_process_errors_total",
      help: "Unhandled promise rejections and uncaught exceptions in the hub process, by kind",
      labelNames: ["kind"],
      registers: [register],
    });
    for (const kind of ["unhandled-rejection", "uncaught-exception"]) this.#processErrors.inc({ kind }, 0);
    this.#reloads = new Counter({
      name: "heartline_config_reloads_total",
      help: "Live config reloads, by result (applied, rejected: invalid and ignored)",
      labelNames: ["result"],
      registers: [register],
    });
    this.#heartbeatRtt = new Histogram({
      name: "heartline_heartbeat_rtt_seconds",
      help: "Signaling heartbeat round-trip time as streamers measure it (streamer -> hub -> player -> back)",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [register],
    });
    this.#relayLatency = new Histogram({
      name: "heartline_relay_latency_seconds",
      help: "Time the hub takes from receiving a peer's message to having forwarded it",
      buckets: [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01, 0.1],
      registers: [register],
    });
    // Every label value exists from the start, so rate() and alerts see a 0 before the first event.
    for (const reason of SESSION_CLOSE_REASONS) this.#endings.inc({ reason }, 0);
    for (const code of ERROR_CODES) this.#rejected.inc({ code }, 0);
    for (const result of ["applied", "rejected"]) this.#reloads.inc({ result }, 0);
    if (processMetrics) collectDefaultMetrics({ register });

    registry.observer.on("sessionClosed", (session) => {
      if (session.closeReason !== undefined) this.#endings.inc({ reason: session.closeReason });
    });
  }

  /** A streamer reported a heartbeat RTT. */
  heartbeatRtt(rttMs: number): void {
    this.#heartbeatRtt.observe(rttMs / 1000);
  }

  /** A message took `seconds` from receipt to forward. */
  /** A socket was cut off as a stalled reader. */
  stalledReader(protocol: "heartline" | "pixelstreaming"): void {
    this.#stalledReaders.inc({ protocol });
  }

  psRelayed(from: "streamer" | "player"): void {
    this.#psRelayed?.inc({ from });
  }

  psDropped(from: "streamer" | "player", reason: string): void {
    this.#psDropped?.inc({ from, reason });
  }

  relayed(seconds: number): void {
    this.#relayLatency.observe(seconds);
  }

  rejected(code: ErrorCode): void {
    this.#rejected.inc({ code });
  }

  handshakeRefused(code: HandshakeError): void {
    this.#handshakeRefusals.inc({ code });
  }

  /** An error nothing handled reached the process (logged by main.ts, counted here). */
  processError(kind: "unhandled-rejection" | "uncaught-exception"): void {
    this.#processErrors.inc({ kind });
  }

  configReloaded(result: "applied" | "rejected"): void {
    this.#reloads.inc({ result });
  }

  get contentType(): string {
    return this.register.contentType;
  }

  /** The text exposition format. */
  scrape(): Promise<string> {
    return this.register.metrics();
  }
}
