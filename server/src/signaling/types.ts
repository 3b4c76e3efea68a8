import type { Server, Socket } from "socket.io";
import type { HandshakeAuth, HubEmitEvents, HubListenEvents } from "@heartline/shared";

/** What the hub stores on each socket: the identity decided at the handshake. */
export interface SocketData {
  auth: HandshakeAuth;
}

// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- socket.io's "no inter-server events"
type NoEvents = {};

export type HubServer = Server<HubListenEvents, HubEmitEvents, NoEvents, SocketData>;
export type HubSocket = Socket<HubListenEvents, HubEmitEvents, NoEvents, SocketData>;
