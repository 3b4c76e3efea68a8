/**
 * What the processes of the adapter bench say to each other: the parent (cli) drives two hub
 * nodes (nodeChild.ts) over fork's IPC channel and connects the clients; the clients and the
 * nodes speak the socket.io events below.
 */

/** `pubsub`: @socket.io/redis-adapter (Redis pub/sub); `streams`: @socket.io/redis-streams-adapter. */
export type AdapterKind = "pubsub" | "streams";

/**
 * How a pair's two ends are placed and relayed:
 * - `cross`: streamer on node A, player on node B; every ping and pong crosses Redis with
 *   `io.serverSideEmit("relay", ...)`.
 * - `local`: both on node A; the node emits straight to the other socket (no adapter, no Redis).
 * - `room`: both on node A; the node emits with `io.to(room).emit(...)` to a room that holds only
 *   the other socket, which goes through the adapter's broadcast.
 */
export type Group = "cross" | "local" | "room";
export const GROUPS: readonly Group[] = ["cross", "local", "room"];

export type Role = "streamer" | "player";

/** What a client sends in its handshake. */
export interface PairAuth {
  pair: number;
  role: Role;
  group: Group;
}

/** Client -> node: the streamer's ping and the player's answer, by sequence number. */
export interface ClientToNode {
  relayPing: (seq: number) => void;
  relayPong: (seq: number) => void;
}

/** Node -> client: the same events, relayed. */
export type NodeToClient = ClientToNode;

/** Node -> node, through the adapter: relay `seq` to `to` of `pair`, wherever it is connected. */
export interface NodeToNode {
  relay: (to: Role, pair: number, seq: number) => void;
}

export interface NodeCounters {
  /** `error` events of the node's Redis clients. */
  redisErrors: number;
  /** Publish rejections caught by the guard (protected pub/sub only). */
  publishErrorsCaught: number;
  /** Relays that arrived from the other node for an end that is not connected here. */
  relaysDropped: number;
}

/** Parent -> node. */
export type NodeCommand = { type: "counters" } | { type: "stop" };

/** Node -> parent. */
export type NodeReport = { type: "listening"; port: number } | ({ type: "counters" } & NodeCounters);

export function isPairAuth(value: unknown): value is PairAuth {
  if (typeof value !== "object" || value === null) return false;
  const { pair, role, group } = value as Record<string, unknown>;
  return (
    typeof pair === "number" &&
    Number.isInteger(pair) &&
    (role === "streamer" || role === "player") &&
    (group === "cross" || group === "local" || group === "room")
  );
}
