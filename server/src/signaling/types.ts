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
}

// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- socket.io's "no inter-server events"
type NoEvents = {};

export type HubServer = Server<HubListenEvents, HubEmitEvents, NoEvents, SocketData>;
export type HubSocket = Socket<HubListenEvents, HubEmitEvents, NoEvents, SocketData>;
