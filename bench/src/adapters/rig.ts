/**
 * One adapter's test rig: its own redis-server, nodes A and B (child processes) and the relay
 * pairs (clients, in this process). Every redis-server started here is also killed when the
 * parent exits, however it exits (see `killAllRedis`).
 */
import { RedisServer } from "@heartline/shared/testing";
import { Load } from "./load.js";
import { NodeProcess } from "./NodeProcess.js";
import type { AdapterKind } from "./protocol.js";

const liveRedis = new Set<RedisServer>();

/** SIGKILLs every redis-server still running (the signal is sent synchronously). */
export function killAllRedis(): void {
  for (const redis of liveRedis) void redis.kill();
  liveRedis.clear();
}

export interface RigSpec {
  adapter: AdapterKind;
  /** pub/sub only: publish guarded (see nodeChild.ts), offline queue off and rejections caught. */
  protect: boolean;
}

export function rigLabel(spec: RigSpec): string {
  return spec.adapter === "pubsub" ? `pubsub ${spec.protect ? "protected" : "unprotected"}` : "streams";
}

export class Rig {
  private constructor(
    readonly spec: RigSpec,
    readonly redis: RedisServer,
    readonly a: NodeProcess,
    readonly b: NodeProcess,
    readonly load: Load,
  ) {}

  get label(): string {
    return rigLabel(this.spec);
  }

  get nodes(): NodeProcess[] {
    return [this.a, this.b];
  }

  /** `pairs` pairs of each group: cross (streamer on A, player on B), local and room (both on A). */
  static async start(spec: RigSpec, pairs: number, log: (line: string) => void): Promise<Rig> {
    const redis = await RedisServer.start();
    liveRedis.add(redis);
    const nodes: NodeProcess[] = [];
    try {
      log(`redis-server on ${redis.url}; starting nodes A and B`);
      const started = await Promise.allSettled(
        ["A", "B"].map((name) => NodeProcess.start(name, spec.adapter, redis.url, spec.protect)),
      );
      for (const s of started) if (s.status === "fulfilled") nodes.push(s.value);
      for (const s of started) if (s.status === "rejected") throw s.reason;
      const [a, b] = nodes as [NodeProcess, NodeProcess];
      const load = await Load.connect([
        { group: "cross", count: pairs, streamerUrl: a.url, playerUrl: b.url },
        { group: "local", count: pairs, streamerUrl: a.url, playerUrl: a.url },
        { group: "room", count: pairs, streamerUrl: a.url, playerUrl: a.url },
      ]);
      log(`${3 * pairs} pairs connected (${pairs} cross A→B, ${pairs} local on A, ${pairs} room on A)`);
      return new Rig(spec, redis, a, b, load);
    } catch (error) {
      await Promise.all(nodes.map((node) => node.stop()));
      await redis.stop();
      liveRedis.delete(redis);
      throw error;
    }
  }

  async close(): Promise<void> {
    this.load.close();
    await Promise.all(this.nodes.map((node) => node.stop()));
    await this.redis.stop();
    liveRedis.delete(this.redis);
  }
}
