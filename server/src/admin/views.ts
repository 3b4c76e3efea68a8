/**
 * What the operator sees of streamers and sessions, built from the session registry for the
 * HTTP API and the dashboard. Times go out as wall-clock; the registry keeps monotonic ones.
 */
import type { SessionView, StreamerView } from "@heartline/shared/admin";
import type { Clock } from "@heartline/shared/timing";
import type { Session } from "../sessions/Session.js";
import type { SessionRegistry } from "../sessions/SessionRegistry.js";

/** Every streamer the hub knows, connected or away, in registration order. */
export function streamerViews(registry: SessionRegistry): StreamerView[] {
  const views: StreamerView[] = [];
  for (const peer of registry.peers()) {
    if (peer.role !== "streamer" || peer.streamerId === undefined) continue;
    views.push({
      streamerId: peer.streamerId,
      players: peer.sessions.size,
      away: peer.away,
      protocol: peer.protocol,
    });
  }
  return views;
}

export function sessionView(session: Session, clock: Clock): SessionView {
  const ageMs = Math.max(0, Math.round(clock.now() - session.startedAt));
  const { rttMs, mediaRttMs, sendStats, receiveStats } = session.heartbeat;
  return {
    id: session.id,
    streamerId: session.streamerId,
    playerId: session.player.id,
    // Only open sessions are shown (a pending one is still connecting, to whoever asks).
    state: session.state === "closed" ? "stale" : session.state === "pending" ? "connecting" : session.state,
    late: session.late ?? null,
    media: session.media ?? null,
    elsewhere: session.link === undefined ? null : { end: session.link.end, nodeId: session.link.node },
    protocol: session.streamer.protocol,
    startedAt: new Date(Date.now() - ageMs).toISOString(),
    ageMs,
    heartbeat: {
      rttMs: rttMs ?? null,
      mediaRttMs: mediaRttMs ?? null,
      sendStats: sendStats ?? null,
      receiveStats: receiveStats ?? null,
    },
  };
}

/** Open sessions, oldest first (a cross-node session still being opened is not one yet). */
export function sessionViews(registry: SessionRegistry, clock: Clock): SessionView[] {
  const views: SessionView[] = [];
  for (const session of registry.sessions())
    if (session.state !== "pending") views.push(sessionView(session, clock));
  return views.sort((a, b) => b.ageMs - a.ageMs);
}
