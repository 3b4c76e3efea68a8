/**
 * What a Pixel Streaming connection needs from the hub, in one object the endpoint builds: the
 * sessions layer it shares with heartline's own protocol, the config as it is now, and the
 * monitoring hooks.
 */
import type { HubConfig } from "@heartline/shared/config";
import type { Clock } from "@heartline/shared/timing";
import type { Refusal } from "../sessions/admission.js";
import type { Peer } from "../sessions/Peer.js";
import type { SessionRegistry } from "../sessions/SessionRegistry.js";
import type { SessionRelay } from "../sessions/SessionRelay.js";
import type { Session } from "../sessions/Session.js";
import type { PsDrop } from "./PsSocket.js";

export type PsConfig = Pick<HubConfig, "limits" | "maxPlayers" | "pixelStreaming" | "iceServers" | "turn"> & {
  heartbeat: Pick<HubConfig["heartbeat"], "logPingPong">;
};

/** Multi-node: what the endpoint asks of the cluster (cluster/RemoteSessions). */
export interface PsCrossNode {
  readonly linkUp: boolean;
  remoteStreamers(): { streamerId: string; players: number; protocol?: string }[];
  claimStreamerId(streamerId: string): Promise<{ ok: true } | { ok: false; heldBy: string }>;
  subscribeRemote(player: Peer, streamerId: string): Promise<{ ok: true } | ({ ok: false } & Refusal)>;
}

/** Monitoring hooks: plain calls, never part of the control flow. */
export interface PsProbe {
  /** A session's round trip (the player's leg plus the streamer's, as this node measured them). */
  heartbeatRtt(session: Session, rttMs: number): void;
  dropped(role: "streamer" | "player", why: PsDrop): void;
  relayed(role: "streamer" | "player"): void;
  /** A socket was cut off as a stalled reader. */
  stalledReader(): void;
}

export interface PsContext {
  registry: SessionRegistry;
  relay: SessionRelay;
  clock: Clock;
  config(): PsConfig;
  crossNode: PsCrossNode | undefined;
  probe: PsProbe | undefined;
  /** The `peerConnectionOptions` (an RTCConfiguration) a peer gets in `config`. */
  peerConnectionOptions(peer: { id: string }): Record<string, unknown>;
  /** Identified Pixel Streaming streamers, here and on other nodes. */
  streamerIds(): string[];
  /** The streamer's last measured RTT (WebSocket ping to pong), when it is on this node. */
  streamerRtt(streamer: Peer): number | undefined;
}

/** The one session a Pixel Streaming player or the given streamer session, if any. */
export function onlySession(peer: Peer): Session | undefined {
  for (const session of peer.sessions) return session;
  return undefined;
}
