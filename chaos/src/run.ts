/**
 * One chaos run: Redis, two hub nodes, the peer groups, the seeded faults, then the snapshot and
 * the checker. Everything it starts is stopped at the end, and killed (with the namespace
 * removed) if the runner exits early (an error, SIGINT): see `cleanupNow`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { canUseNetns, freePort, Netns, RedisServer } from "@heartline/shared/testing";
import { check, leakViolations, type Violation } from "./checker.js";
import type {
  Bounds,
  FaultRecord,
  Histories,
  HubError,
  HubEvent,
  NodeName,
  NodeSnapshot,
  PeerEvent,
  PlannedFault,
  ProcessExit,
} from "./history.js";
import type { HostilePlan } from "./hostile.js";
import { HubNode } from "./HubNode.js";
import type { GroupCommand, GroupPlan, GroupReport } from "./peerGroup.js";
import { planFaults, restartAfterMs } from "./schedule.js";
import type { Topology } from "./topology.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PEER_GROUP = fileURLToPath(new URL("./peerGroup.ts", import.meta.url));
const HOSTILE = fileURLToPath(new URL("./hostile.ts", import.meta.url));
const KEY_PREFIX = "chaos";
const NODES: readonly NodeName[] = ["a", "b"];
/** The namespace's index in Netns (keeps it apart from the e2e tests' 0-9) and its nft table. */
const NETNS_INDEX = 50;
const NETNS_NAME = "heartline-chaos";
const NETNS_TABLE = "heartline_chaos";

export interface ChaosOptions extends Topology {
  seed: number;
  /** How long faults are injected, ms (the run takes about 30 s more). */
  durationMs: number;
  intervalMs: number;
  missedBeats: number;
  pauseToleranceMs: number;
  slackMs: number;
  heapSlackBytes: number;
  /** Run one group in a network namespace (partitions, loss) when the machine allows it. */
  netns: boolean;
  /** A player ends its session by itself after this long, at random ([0, 0]: never). */
  lifetimeMs: [number, number];
  runDir: string;
  /** One line per phase and per fault. */
  progress: (line: string) => void;
}

export interface ChaosResult {
  histories: Histories;
  violations: Violation[];
  runDir: string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Synchronous kills of everything still running: on any exit of the runner. */
const cleanups = new Set<() => void>();
function cleanupNow(): void {
  for (const cleanup of [...cleanups]) {
    try {
      cleanup();
    } catch {
      // Best effort: the rest must still run.
    }
  }
  cleanups.clear();
}
process.on("exit", cleanupNow);

/** One peer group's process; started again (a new incarnation) after a kill. */
class GroupProcess {
  #child: ChildProcess | undefined;
  #inc = -1;
  #expectExit = false;

  constructor(
    readonly plan: Omit<GroupPlan, "historyFile">,
    readonly runDir: string,
    readonly netns: Netns | undefined,
    readonly onExit: (exit: ProcessExit) => void,
  ) {}

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  async start(): Promise<void> {
    this.#inc++;
    this.#expectExit = false;
    const inc = this.#inc;
    const plan: GroupPlan = {
      ...this.plan,
      seed: this.plan.seed + inc * 7919,
      historyFile: join(this.runDir, `group-${this.plan.group}.${inc}.jsonl`),
    };
    const argv = [process.execPath, "--import", "tsx", PEER_GROUP, JSON.stringify(plan)];
    const [command = "", ...args] = this.netns ? this.netns.command(argv) : argv;
    const child = spawn(command, args, { cwd: ROOT, stdio: ["ignore", "ignore", "inherit", "ipc"] });
    this.#child = child;
    const kill = () => child.kill("SIGKILL");
    cleanups.add(kill);
    child.once("exit", (code, signal) => {
      cleanups.delete(kill);
      if (this.#child === child) this.#child = undefined;
      if (!this.#expectExit || code !== 0 || signal !== null)
        this.onExit({
          t: Date.now(),
          name: `peer group ${this.plan.group} (#${inc})`,
          code,
          signal,
          byFault: this.#expectExit,
        });
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`peer group ${this.plan.group} did not start within 30 s`));
      }, 30_000);
      child.once("exit", () => {
        clearTimeout(timer);
        reject(new Error(`peer group ${this.plan.group} exited while starting`));
      });
      child.on("message", (report: GroupReport) => {
        if (report.type !== "ready") return;
        clearTimeout(timer);
        resolve();
      });
    });
  }

  signal(signal: NodeJS.Signals): void {
    if (this.#child?.pid !== undefined) process.kill(this.#child.pid, signal);
  }

  send(command: GroupCommand): void {
    this.#child?.send(command, () => undefined);
  }

  async kill(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#expectExit = true;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  }

  /** Each peer's open sessions, also written to the history as `final` events. */
  final(): Promise<Extract<GroupReport, { type: "final" }> | undefined> {
    const child = this.#child;
    if (!child) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        child.off("message", onMessage);
        resolve(undefined);
      }, 5000);
      const onMessage = (report: GroupReport) => {
        if (report.type !== "final") return;
        clearTimeout(timer);
        child.off("message", onMessage);
        resolve(report);
      };
      child.on("message", onMessage);
      child.send({ type: "final" } satisfies GroupCommand, () => undefined);
    });
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#expectExit = true;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGCONT");
    child.send({ type: "stop" } satisfies GroupCommand, () => undefined);
    const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
    await exited;
    clearTimeout(timer);
  }
}

export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  mkdirSync(o.runDir, { recursive: true });
  // Histories are appended to: another run's would be read as this one's.
  if (readdirSync(o.runDir).length > 0)
    throw new Error(`run directory ${o.runDir} is not empty: remove it or pass another --dir`);
  const timeoutMs = o.intervalMs * o.missedBeats;
  const bounds: Bounds = {
    intervalMs: o.intervalMs,
    timeoutMs,
    resumeGraceMs: timeoutMs,
    pauseToleranceMs: o.pauseToleranceMs,
    slackMs: o.slackMs,
    heapSlackBytes: o.heapSlackBytes,
  };
  const hubEvents: HubEvent[] = [];
  const hubErrors: HubError[] = [];
  const exits: ProcessExit[] = [];
  const faults: FaultRecord[] = [];

  let netns: Netns | undefined;
  if (o.netns && canUseNetns()) {
    netns = new Netns(NETNS_NAME, NETNS_INDEX, NETNS_TABLE).create();
    const ns = netns;
    cleanups.add(() => {
      ns.destroy();
    });
  } else if (o.netns)
    o.progress("no network namespace (needs root, ip, tc and nft): no partition or loss faults");
  const host = netns?.hostAddress ?? "127.0.0.1";

  const redis = await RedisServer.start();
  const redisKill = () => void redis.kill();
  cleanups.add(redisKill);
  const secret = randomBytes(32).toString("hex");
  const adminToken = randomBytes(24).toString("hex");
  const hubs = new Map<NodeName, HubNode>();
  for (const node of NODES) {
    const hub = new HubNode({
      node,
      host,
      port: await freePort(),
      runDir: o.runDir,
      adminToken,
      config: {
        auth: { open: true },
        heartbeat: {
          intervalMs: o.intervalMs,
          missedBeats: o.missedBeats,
          pauseToleranceMs: o.pauseToleranceMs,
        },
        limits: { connectionsPerIp: 10_000 },
        cluster: { redisUrl: redis.url, secret, nodeId: node, keyPrefix: KEY_PREFIX },
      },
      onEvent: (event) => hubEvents.push(event),
      onError: (error) => hubErrors.push(error),
      onExit: (code, signal, expected) => {
        if (!expected) exits.push({ t: Date.now(), name: `hub ${node}`, code, signal, byFault: false });
      },
    });
    hubs.set(node, hub);
    cleanups.add(() => {
      hub.signal("SIGKILL");
    });
  }
  const hubOf = (node: NodeName): HubNode => {
    const hub = hubs.get(node);
    if (!hub) throw new Error(`no hub ${node}`);
    return hub;
  };

  const netnsGroup = netns ? 0 : undefined;
  const groups: GroupProcess[] = [];
  const stopAll = async () => {
    await Promise.allSettled(groups.map((g) => g.stop()));
    await Promise.allSettled([...hubs.values()].map((hub) => hub.stop()));
    await redis.stop();
    cleanups.delete(redisKill);
    netns?.destroy();
    cleanupNow();
  };

  try {
    await Promise.all([...hubs.values()].map((hub) => hub.start()));
    o.progress(
      `hubs a ${hubOf("a").url}, b ${hubOf("b").url} on redis ${redis.url}; run directory ${o.runDir}`,
    );
    for (let group = 0; group < o.groups; group++) {
      const inNetns = group === netnsGroup ? netns : undefined;
      const plan: Omit<GroupPlan, "historyFile"> = {
        group,
        groups: o.groups,
        streamersPerGroup: o.streamersPerGroup,
        playersPerGroup: o.playersPerGroup,
        hubs: { a: hubOf("a").url, b: hubOf("b").url },
        probe: group % 2 === 0,
        lifetimeMs: o.lifetimeMs,
        seed: o.seed * 31 + group,
      };
      groups.push(
        new GroupProcess(plan, o.runDir, inNetns, (exit) => {
          exits.push(exit);
        }),
      );
    }
    await Promise.all(groups.map((g) => g.start()));

    // Warm-up: every player holds a session before the first fault.
    const players = o.groups * o.playersPerGroup;
    const warmDeadline = Date.now() + 30_000;
    let open = 0;
    while (Date.now() < warmDeadline) {
      const ids = new Set((await Promise.all(NODES.map((n) => hubOf(n).sessionIds()))).flat());
      open = ids.size;
      if (open >= players) break;
      await sleep(500);
    }
    if (open < players)
      throw new Error(
        `warm-up: only ${open} of ${players} sessions started within 30 s; see the run directory ${o.runDir} (hub logs, peer histories)`,
      );
    const heapBaseline = new Map<NodeName, number>();
    for (const node of NODES) heapBaseline.set(node, await hubOf(node).heapUsed());
    o.progress(
      `${o.groups} peer groups (${o.streamersPerGroup} streamers, ${o.playersPerGroup} players each${netns ? `; group 0 in network namespace ${NETNS_NAME}` : ""}): ${open} sessions live`,
    );

    // Faults, each on its own timer so they overlap as planned.
    const planned = planFaults(o.seed, { durationMs: o.durationMs, groups: o.groups, netnsGroup, bounds });
    const t0 = Date.now();
    const restarts: Promise<void>[] = [];
    /** A restart that failed: the run stops with it once the faults are over. */
    let restartFailure: Error | undefined;
    const background = (task: Promise<void>) => {
      restarts.push(
        task.catch((error: unknown) => {
          restartFailure ??= error instanceof Error ? error : new Error(String(error));
        }),
      );
    };
    const group = (target: PlannedFault["target"]): GroupProcess => {
      const g = typeof target === "number" ? groups[target] : undefined;
      if (!g) throw new Error(`no peer group ${String(target)}`);
      return g;
    };
    const apply = async (f: PlannedFault): Promise<void> => {
      await sleep(t0 + f.atMs - Date.now());
      const start = Date.now();
      const at = `+${((start - t0) / 1000).toFixed(1)}s`;
      const target =
        f.target === undefined
          ? ""
          : typeof f.target === "number"
            ? ` group ${f.target}`
            : ` node ${f.target}`;
      o.progress(
        `${at} fault #${f.id} ${f.kind}${target}${f.durationMs > 0 ? ` for ${f.durationMs} ms` : ""}`,
      );
      switch (f.kind) {
        case "stop":
          group(f.target).signal("SIGSTOP");
          await sleep(f.durationMs);
          group(f.target).signal("SIGCONT");
          break;
        case "kill": {
          const g = group(f.target);
          await g.kill();
          background(
            sleep(restartAfterMs(bounds)).then(async () => {
              await g.start();
              o.progress(
                `+${((Date.now() - t0) / 1000).toFixed(1)}s peer group ${String(f.target)} started again`,
              );
            }),
          );
          break;
        }
        case "partition":
          netns?.partition();
          await sleep(f.durationMs);
          netns?.heal();
          break;
        case "loss":
          netns?.loss(20);
          await sleep(f.durationMs);
          netns?.stopLoss();
          break;
        case "hub-kill": {
          const node = f.target === "b" ? "b" : "a";
          await hubOf(node).kill();
          await sleep(f.durationMs);
          await hubOf(node).start();
          // The new incarnation's baseline, once its peers are back. If it was killed again
          // meanwhile, its next start measures it instead.
          restarts.push(
            sleep(timeoutMs + o.slackMs).then(async () => {
              const heap = await hubOf(node)
                .heapUsed()
                .catch(() => undefined);
              if (heap !== undefined) heapBaseline.set(node, heap);
            }),
          );
          break;
        }
        case "redis-outage":
          await redis.kill();
          await sleep(f.durationMs);
          await redis.restart();
          break;
        case "hostile":
          await hostile(
            {
              hubs: NODES.map((n) => hubOf(n).url),
              redisPort: redis.port,
              keyPrefix: KEY_PREFIX,
              sessionIds: (
                await Promise.all(
                  NODES.map((n) =>
                    hubOf(n)
                      .sessionIds()
                      .catch(() => []),
                  ),
                )
              ).flat(),
              durationMs: f.durationMs,
            },
            exits,
          );
          break;
      }
      faults.push({ ...f, start, end: f.durationMs > 0 ? Date.now() : start });
    };
    await Promise.all(planned.map(apply));
    await Promise.all(restarts);
    if (restartFailure !== undefined) throw restartFailure;
    const quietAt = Date.now();
    for (const g of groups) g.send({ type: "quiesce" });
    const settleMs = timeoutMs + bounds.resumeGraceMs + o.slackMs + 2000;
    o.progress(
      `faults over (${faults.length}); settling ${(settleMs / 1000).toFixed(1)} s before the leak check`,
    );
    await sleep(settleMs);

    // The snapshot: what the peers hold against what each node lists, counts and keeps in heap.
    let snapshots: NodeSnapshot[] = [];
    for (let round = 1; round <= 4; round++) {
      await Promise.all(groups.map((g) => g.final()));
      snapshots = await Promise.all(NODES.map((node) => hubOf(node).snapshot(heapBaseline.get(node) ?? 0)));
      const leaks = leakViolations(
        collect(o.runDir, {
          bounds,
          faults,
          hubs: hubEvents,
          hubErrors,
          exits,
          snapshots,
          quietAt,
          stopAt: Date.now(),
          seed: o.seed,
        }),
      );
      if (leaks.length === 0 || round === 4) break;
      o.progress(`snapshot ${round}: ${leaks.length} difference(s), looking again in 2 s`);
      await sleep(2000);
    }
    const stopAt = Date.now();
    await stopAll();
    const histories = collect(o.runDir, {
      bounds,
      faults,
      hubs: hubEvents,
      hubErrors,
      exits,
      snapshots,
      quietAt,
      stopAt,
      seed: o.seed,
    });
    writeFileSync(join(o.runDir, "histories.json"), JSON.stringify(histories));
    return { histories, violations: check(histories), runDir: o.runDir };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** The histories: what the runner kept in memory plus every peer group's file. */
function collect(runDir: string, parts: Omit<Histories, "peers">): Histories {
  const peers: PeerEvent[] = [];
  for (const file of readdirSync(runDir)
    .filter((f) => /^group-\d+\.\d+\.jsonl$/.test(f))
    .sort())
    for (const line of readFileSync(join(runDir, file), "utf8").split("\n"))
      if (line.startsWith("{")) peers.push(JSON.parse(line) as PeerEvent);
  peers.sort((x, y) => x.t - y.t);
  return { ...parts, faults: [...parts.faults].sort((x, y) => x.start - y.start), peers };
}

/** Runs one hostile burst in its own process; bounded by its own deadline and ours. */
async function hostile(plan: HostilePlan, exits: ProcessExit[]): Promise<void> {
  const child = spawn(process.execPath, ["--import", "tsx", HOSTILE, JSON.stringify(plan)], {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const kill = () => child.kill("SIGKILL");
  cleanups.add(kill);
  const timer = setTimeout(kill, plan.durationMs + 15_000);
  await new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      if (code !== 0) exits.push({ t: Date.now(), name: "hostile burst", code, signal, byFault: false });
      resolve();
    });
  });
  clearTimeout(timer);
  cleanups.delete(kill);
}
