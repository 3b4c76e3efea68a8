/**
 * The lower layers' liveness checks, derived from the heartbeat so that none of them closes a
 * socket before the heartbeat has decided, and every hop carries traffic well within common
 * proxy idle timeouts (60 s) even when no session runs.
 *
 * - engine.io pings every `pingInterval` (the heartbeat interval, clamped to 1-25 s) and closes
 *   a socket only after `pingInterval + pingTimeout` without an answer, which is always longer
 *   than the heartbeat timeout. When it does close one, the peer is `away` and may resume.
 * - TCP keepalive starts probing an idle connection after `pingInterval` too; the kernel needs
 *   minutes of failed probes before it gives up, so it never beats the heartbeat.
 */
import { hubPingIntervalMs, type HeartbeatSettings } from "@heartline/shared";

export interface Keepalive {
  pingIntervalMs: number;
  pingTimeoutMs: number;
  tcpKeepAliveInitialDelayMs: number;
}

export function keepaliveFor(heartbeat: HeartbeatSettings): Keepalive {
  // The period peers rely on (shared, so a peer can judge the hub's silence by it).
  const pingIntervalMs = hubPingIntervalMs(heartbeat.intervalMs);
  return {
    pingIntervalMs,
    pingTimeoutMs: heartbeat.timeoutMs + pingIntervalMs,
    tcpKeepAliveInitialDelayMs: pingIntervalMs,
  };
}
