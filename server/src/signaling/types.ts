import type { Server, Socket } from "socket.io";
import type { HandshakeAuth, HubEmitEvents, HubListenEvents } from "@heartline/shared";
import type { Peer } from "../sessions/Peer.js";

/** What the hub stores on each socket: the identity decided at the handshake. */
export interface SocketData {
  auth: HandshakeAuth;
  /** The peer this socket continues (a valid resume token), if any. */
  resume: Peer | undefined;
  /** A player whose token names a streamer may watch only that one. */
  onlyStreamerId: string | undefined;
  /** A player admitted with a token: the token's id (limits.sessionsPerToken). */
  tokenId?: string | undefined;
}

/**
 * No server-side events: hub nodes talk on their own signed Redis channels (cluster/ClusterBus.ts),
 * not through socket.io, so an emit between servers reaches no handler.
 */
export type ServerSideEvents = Record<string, never>;

export type HubServer = Server<HubListenEvents, HubEmitEvents, ServerSideEvents, SocketData>;
export type HubSocket = Socket<HubListenEvents, HubEmitEvents, ServerSideEvents, SocketData>;
