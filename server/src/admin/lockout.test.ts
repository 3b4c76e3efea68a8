/**
 * The admin-token guess lockout across a cluster: two hubs on a real redis-server share each
 * address's budget (10 wrong tokens, one more a minute), so guesses spread over the nodes are
 * locked out as on one node. Redis down or holding a value no hub wrote: each node goes by its
 * own count.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { RedisServer } from "@heartline/shared/testing";
import { refusedHandshake, startHub, type TestHub } from "../testing/harness.js";

const ADMIN_TOKEN = "lockout-test-admin-token-0123456789";
const CLUSTER_SECRET = "lockout-test-secret-0123456789abcdef";

let redis: RedisServer;
let direct: Redis;
const hubs: TestHub[] = [];
let clusters = 0;

beforeAll(async () => {
  redis = await RedisServer.start();
  direct = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await direct.connect();
});
afterAll(async () => {
  direct.disconnect();
  await redis.stop();
});
afterEach(async () => {
  await Promise.all(hubs.splice(0).map((hub) => hub.close()));
  if (!redis.running) await redis.restart();
});

/** Two hubs of one cluster (their own key prefix on the one Redis). */
async function cluster(): Promise<{ a: TestHub; b: TestHub; keyPrefix: string }> {
  const keyPrefix = `lockout${String(++clusters)}`;
  const node = async (nodeId: string): Promise<TestHub> => {
    const hub = await startHub({
      cluster: { redisUrl: redis.url, keyPrefix, nodeId, secret: CLUSTER_SECRET },
      admin: { token: ADMIN_TOKEN },
    });
    hubs.push(hub);
    return hub;
  };
  return { a: await node("a"), b: await node("b"), keyPrefix };
}

/** The status of an admin request to `hub` with `token`. */
async function asAdmin(hub: TestHub, token: string): Promise<number> {
  const response = await fetch(`${hub.url}/api/sessions`, { headers: { authorization: `Bearer ${token}` } });
  await response.arrayBuffer();
  return response.status;
}

const guess = (i: number): string => `wrong-guess-${String(i)}-0123456789`;

describe("admin-token guesses in a cluster", () => {
  it("spread over two nodes spend one budget: 10 wrong in all, then 429 on both, even with the right token", async () => {
    const { a, b, keyPrefix } = await cluster();
    const statuses: number[] = [];
    for (let i = 0; i < 12; i += 1) statuses.push(await asAdmin(i % 2 === 0 ? a : b, guess(i)));
    expect(statuses).toEqual([...Array<number>(10).fill(401), 429, 429]);
    expect(await asAdmin(a, ADMIN_TOKEN)).toBe(429);
    expect(await asAdmin(b, ADMIN_TOKEN)).toBe(429);
    // The budget is the key's time to live: 10 guesses owed, one paid back a minute.
    const owedMs = await direct.pttl(`${keyPrefix}:admin-guesses:127.0.0.1`);
    expect(owedMs).toBeGreaterThan(9 * 60_000);
    expect(owedMs).toBeLessThanOrEqual(10 * 60_000);
    // The dashboard namespace of either node shares it.
    const code = await refusedHandshake(`${b.url}/admin`, { token: ADMIN_TOKEN });
    expect(code).toBe("too-many-attempts");
  });

  it("a right token on one node gives the address its whole budget back on every node", async () => {
    const { a, b, keyPrefix } = await cluster();
    for (let i = 0; i < 9; i += 1) expect(await asAdmin(i % 2 === 0 ? a : b, guess(i))).toBe(401);
    expect(await asAdmin(b, ADMIN_TOKEN)).toBe(200);
    expect(await direct.exists(`${keyPrefix}:admin-guesses:127.0.0.1`)).toBe(0);
    // a still holds its own 5 wrong guesses; the shared budget is full again.
    for (let i = 0; i < 5; i += 1) expect(await asAdmin(b, guess(i))).toBe(401);
  });

  it("simultaneous guesses on both nodes cannot pass the budget", async () => {
    const { a, b } = await cluster();
    const statuses = await Promise.all(
      Array.from({ length: 40 }, (_, i) => asAdmin(i % 2 === 0 ? a : b, guess(i))),
    );
    expect(statuses.filter((status) => status === 401)).toHaveLength(10);
    expect(statuses.filter((status) => status === 429)).toHaveLength(30);
  });

  it("with Redis down, each node goes by its own count", async () => {
    const { a, b } = await cluster();
    await redis.kill();
    const statuses: number[] = [];
    for (let i = 0; i < 11; i += 1) statuses.push(await asAdmin(a, guess(i)));
    expect(statuses).toEqual([...Array<number>(10).fill(401), 429]);
    expect(await asAdmin(b, ADMIN_TOKEN)).toBe(200);
  });

  it("a value no hub wrote is not trusted: neither a lockout nor a count, and it is reported once", async () => {
    const { a, b, keyPrefix } = await cluster();
    const key = `${keyPrefix}:admin-guesses:127.0.0.1`;
    // A key that never expires, then one owing years: a hostile Redis locking the operator out.
    await direct.set(key, "forever");
    expect(await asAdmin(a, ADMIN_TOKEN)).toBe(200);
    await direct.set(key, "1", "PX", 10 ** 11);
    expect(await asAdmin(b, ADMIN_TOKEN)).toBe(200);
    await direct.set(key, "1", "PX", 10 ** 11);
    // Wrong guesses on a: its own count still locks it out after 10.
    const statuses: number[] = [];
    for (let i = 0; i < 11; i += 1) statuses.push(await asAdmin(a, guess(i)));
    expect(statuses).toEqual([...Array<number>(10).fill(401), 429]);
    const reports = a.logs.filter(
      (l) => l.msg === "redis holds an admin guess count no hub wrote; using this node's count",
    );
    expect(reports).toHaveLength(1);
  });
});
