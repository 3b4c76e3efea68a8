/**
 * How often a peer hears from the hub even when nothing else happens: the hub's WebSocket-level
 * ping (engine.io's, answered by every socket.io client library by itself) goes out every
 * heartbeat interval, clamped to 1–25 s (25 s: socket.io's default, well under the 60 s idle
 * timeout of common proxies). On top of that, each session brings its relayed pongs (streamer)
 * or pings (player) every interval.
 *
 * So a peer that has heard nothing at all from the hub for `hubSilenceLimitMs` knows its link is
 * gone (a partition, a hung hub) without waiting for socket.io's own timeout, which the hub sets
 * longer than the heartbeat timeout on purpose (it must never close a socket before the
 * heartbeat decides).
 */

const MIN_HUB_PING_MS = 1_000;
const MAX_HUB_PING_MS = 25_000;

/** The hub's engine.io ping interval for a heartbeat interval. */
export function hubPingIntervalMs(heartbeatIntervalMs: number): number {
  return Math.min(MAX_HUB_PING_MS, Math.max(MIN_HUB_PING_MS, heartbeatIntervalMs));
}

/**
 * Silence from the hub after which a peer may treat its link as dead: one ping period and half
 * of another (at least 2 s more), for a ping and its TCP retransmits that are late but alive.
 */
export function hubSilenceLimitMs(heartbeatIntervalMs: number): number {
  const pingMs = hubPingIntervalMs(heartbeatIntervalMs);
  return pingMs + Math.max(2_000, Math.round(pingMs / 2));
}
