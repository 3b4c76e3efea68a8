/**
 * The hubs one scenario runs against: one hub process, or (`heartline-x2`) two heartline
 * nodes, a and b, on a redis-server of their own. The streamers connect to the first hub, the
 * players to the last, so across nodes every session spans a and b.
 */
import { randomBytes } from "node:crypto";
import { createConnection } from "node:net";
import { RedisServer } from "@heartline/shared/testing";
import { HubProcess } from "./HubProcess.js";
import type { HubKind } from "./protocol.js";

/** What a scenario runs against: a hub of its own, or heartline as two nodes of a cluster. */
export type ScenarioHub = HubKind | "heartline-x2";

export const CLUSTER_NODES = ["a", "b"] as const;
const KEY_PREFIX = "bench";

/**
 * Redis servers not stopped yet. Hub children and load workers exit when their IPC channel to
 * the bench closes; redis-server has none, so it is killed here if the bench exits early.
 */
const liveRedis = new Set<RedisServer>();
process.on("exit", () => {
  for (const redis of liveRedis) void redis.stop(); // SIGKILL is sent synchronously
});

export interface HubMemory {
  heapUsed: number;
  rss: number;
}

export class HubSet {
  readonly #hubs: HubProcess[];
  readonly #redis: RedisServer | undefined;
  /** Node ids, one per hub process (the hub kind for a single hub). */
  readonly names: string[];

  private constructor(hubs: HubProcess[], names: string[], redis: RedisServer | undefined) {
    this.#hubs = hubs;
    this.names = names;
    this.#redis = redis;
  }

  static async start(kind: ScenarioHub, intervalMs: number): Promise<HubSet> {
    if (kind !== "heartline-x2")
      return new HubSet([await HubProcess.start(kind, intervalMs)], [kind], undefined);
    const redis = await RedisServer.start();
    liveRedis.add(redis);
    const secret = randomBytes(32).toString("hex");
    const started = await Promise.allSettled(
      CLUSTER_NODES.map((nodeId) =>
        HubProcess.start("heartline", intervalMs, {
          redisUrl: redis.url,
          nodeId,
          keyPrefix: KEY_PREFIX,
          secret,
        }),
      ),
    );
    const hubs = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
    const failure = started.find((s) => s.status === "rejected");
    if (failure) {
      await Promise.all(hubs.map((hub) => hub.stop()));
      await redis.stop();
      liveRedis.delete(redis);
      throw failure.reason;
    }
    return new HubSet(hubs, [...CLUSTER_NODES], redis);
  }

  /** "a pid 123, b pid 124": which CPU profile (BENCH_CPU_PROF) is whose. */
  describe(): string {
    return this.names.map((name, i) => `${name} pid ${this.#hubs[i]?.pid ?? "?"}`).join(", ");
  }

  /** Each hub's last lines of output, prefixed with its name when there are several. */
  lastLog(): string[] {
    return this.#hubs.flatMap((hub) =>
      this.#hubs.length > 1 ? hub.lastLog().map((line) => `[${hub.name}] ${line}`) : hub.lastLog(),
    );
  }

  /** Process ids of the hubs, by name (for their file-descriptor limits and counts). */
  pids(): Record<string, number | undefined> {
    return Object.fromEntries(this.names.map((name, i) => [name, this.#hubs[i]?.pid]));
  }

  get streamerUrl(): string {
    return this.#hubs[0]?.url ?? "";
  }

  get playerUrl(): string {
    return this.#hubs[this.#hubs.length - 1]?.url ?? "";
  }

  get clustered(): boolean {
    return this.#redis !== undefined;
  }

  /** User + system CPU seconds of each hub so far, in the order of `names`. */
  cpuSeconds(): number[] {
    return this.#hubs.map((hub) => hub.cpuSeconds());
  }

  /** CPU seconds redis-server has used so far (undefined for a single hub). */
  async redisCpuSeconds(): Promise<number | undefined> {
    return this.#redis ? redisCpuSeconds(this.#redis.port) : undefined;
  }

  /** Each hub's heap after a full GC, and RSS, in the order of `names`. */
  memory(): Promise<HubMemory[]> {
    return Promise.all(this.#hubs.map((hub) => hub.memory()));
  }

  /** Stops every hub, then Redis; each stop is bounded (HubProcess kills after 5 s). */
  async stop(): Promise<void> {
    await Promise.allSettled(this.#hubs.map((hub) => hub.stop()));
    if (this.#redis) {
      await this.#redis.stop();
      liveRedis.delete(this.#redis);
    }
  }
}

/** `INFO cpu` over a plain socket: used_cpu_user + used_cpu_sys of the whole server. */
function redisCpuSeconds(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    let reply = "";
    socket.setEncoding("utf8");
    socket.setTimeout(2000, () => {
      socket.destroy(new Error("redis INFO timed out"));
    });
    socket.once("error", reject);
    socket.on("data", (chunk: string) => {
      reply += chunk;
      // A bulk string: `$<length>\r\n<text>\r\n`; wait for all of it.
      const header = /^\$(\d+)\r\n/.exec(reply);
      if (!header || reply.length < header[0].length + Number(header[1])) return;
      socket.destroy();
      const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, "m").exec(reply)?.[1] ?? 0);
      resolve(field("used_cpu_user") + field("used_cpu_sys"));
    });
    socket.write("INFO cpu\r\n");
  });
}
