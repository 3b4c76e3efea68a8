/**
 * One hub node under test, alone in this child process:
 * `nodeChild.ts pubsub|streams <redis-url> protected|raw` (`protected`: pub/sub only).
 *
 * A socket.io server on a free loopback port with the Redis adapter under test, relaying like the
 * hub will: a ping from a streamer goes to its player if the player is connected here, else to
 * the other nodes with `io.serverSideEmit("relay", ...)`; pongs go back the same way. Pairs of
 * group `room` are relayed with `io.to(room).emit(...)` instead (see protocol.ts).
 *
 * No handler for unhandled rejections is installed on purpose: if the adapter leaves a Redis
 * failure unhandled, this process dies as a production node would, and the parent records it.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Redis, type RedisOptions } from "ioredis";
import { Server, type Socket } from "socket.io";
import { createAdapter as createPubSubAdapter } from "@socket.io/redis-adapter";
import { createAdapter as createStreamsAdapter } from "@socket.io/redis-streams-adapter";
import {
  isPairAuth,
  type AdapterKind,
  type ClientToNode,
  type Group,
  type NodeCommand,
  type NodeCounters,
  type NodeReport,
  type NodeToClient,
  type NodeToNode,
  type Role,
} from "./protocol.js";

type NodeServer = Server<ClientToNode, NodeToClient, NodeToNode>;
type NodeSocket = Socket<ClientToNode, NodeToClient, NodeToNode>;

const [adapterArg, redisUrl, guardArg] = process.argv.slice(2);
if ((adapterArg !== "pubsub" && adapterArg !== "streams") || redisUrl === undefined) {
  throw new Error("usage: nodeChild.ts pubsub|streams <redis-url> protected|raw");
}
const adapter: AdapterKind = adapterArg;
const protect = guardArg === "protected";

const counters: NodeCounters = { redisErrors: 0, publishErrorsCaught: 0, relaysDropped: 0 };
const send = (report: NodeReport): void => {
  process.send?.(report);
};

function redisClient(options: RedisOptions = {}): Redis {
  const client = new Redis(redisUrl ?? "", options);
  client.on("error", () => {
    counters.redisErrors += 1;
  });
  return client;
}

async function ready(client: Redis): Promise<void> {
  if (client.status === "ready") return;
  await new Promise<void>((resolve) =>
    client.once("ready", () => {
      resolve();
    }),
  );
}

/**
 * The guard we intend for production: `publish` never rejects (the failure is counted and the
 * message is dropped). With `enableOfflineQueue: false` a publish fails at once while Redis is
 * away instead of piling up and being replayed later.
 */
function guardPublish(client: Redis): Redis {
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property === "publish") {
        return (channel: string | Buffer, message: string | Buffer): Promise<number> =>
          target.publish(channel, message).catch(() => {
            counters.publishErrorsCaught += 1;
            return 0;
          });
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

async function makeAdapter(): Promise<ReturnType<typeof createPubSubAdapter | typeof createStreamsAdapter>> {
  if (adapter === "pubsub") {
    // The subscriber keeps ioredis' defaults: it must queue its SUBSCRIBE until connected, and
    // it re-subscribes by itself after a reconnection.
    const pub = redisClient(protect ? { enableOfflineQueue: false } : {});
    const sub = redisClient();
    await Promise.all([ready(pub), ready(sub)]);
    return createPubSubAdapter(protect ? guardPublish(pub) : pub, sub);
  }
  // As documented: one client with ioredis' defaults (the adapter duplicates it for XREAD and
  // SUBSCRIBE). `protect` does not apply: see RESULTS.md for why no such guard fits it.
  const client = redisClient();
  await ready(client);
  return createStreamsAdapter(client);
}

const httpServer = createServer();
const io: NodeServer = new Server(httpServer, { adapter: await makeAdapter(), transports: ["websocket"] });

const ends: Record<Role, Map<number, NodeSocket>> = { streamer: new Map(), player: new Map() };
const roomOf = (role: Role, pair: number): string => `${role}:${pair}`;

/** Delivers `seq` to end `to` of `pair`: here if it is connected here, else through the adapter. */
function deliver(to: Role, pair: number, seq: number, group: Group, fromOtherNode: boolean): void {
  const event = to === "player" ? "relayPing" : "relayPong";
  if (group === "room") {
    io.to(roomOf(to, pair)).emit(event, seq);
    return;
  }
  const target = ends[to].get(pair);
  if (target) target.emit(event, seq);
  else if (fromOtherNode) counters.relaysDropped += 1;
  else io.serverSideEmit("relay", to, pair, seq);
}

io.on("connection", (socket) => {
  const auth: unknown = socket.handshake.auth;
  if (!isPairAuth(auth)) {
    socket.disconnect(true);
    return;
  }
  const { pair, role, group } = auth;
  ends[role].set(pair, socket);
  if (group === "room") void socket.join(roomOf(role, pair));
  socket.on("disconnect", () => {
    if (ends[role].get(pair) === socket) ends[role].delete(pair);
  });
  if (role === "streamer") {
    socket.on("relayPing", (seq) => {
      deliver("player", pair, seq, group, false);
    });
  } else {
    socket.on("relayPong", (seq) => {
      deliver("streamer", pair, seq, group, false);
    });
  }
});

io.on("relay", (to, pair, seq) => {
  deliver(to, pair, seq, "cross", true);
});

await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
send({ type: "listening", port: (httpServer.address() as AddressInfo).port });

process.on("message", (command: NodeCommand) => {
  if (command.type === "counters") send({ type: "counters", ...counters });
  else process.exit(0);
});
process.on("disconnect", () => process.exit(0));
