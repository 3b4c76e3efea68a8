/** The parent's handle on the load-generator processes: split the load, merge their samples. */
import { fork, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  emptyWindow,
  type WindowSamples,
  type WorkerCommand,
  type WorkerPlan,
  type WorkerReport,
} from "./protocol.js";

const WORKERS = {
  native: fileURLToPath(new URL("./loadWorker.ts", import.meta.url)),
  pixelstreaming: fileURLToPath(new URL("./psLoadWorker.ts", import.meta.url)),
} as const;
/** Sockets per worker: well under the ~19,900 file descriptors one process may hold here. */
export const SOCKETS_PER_WORKER = 15_000;

export interface FleetPlan extends Omit<WorkerPlan, "streamers" | "idPrefix" | "worker"> {
  sessions: number;
}

/**
 * Every worker's `ready`, merged: sums, the slowest connect, all latencies. Cross-node,
 * `listedAfterMs` is NaN if some worker never saw all its streamers listed.
 */
export type Connected = Omit<Extract<WorkerReport, { type: "ready" }>, "type">;

export class LoadFleet {
  readonly #workers: ChildProcess[];
  readonly #progress = new Map<ChildProcess, { connected: number; subscribed: number; failed: number }>();

  private constructor(workers: ChildProcess[]) {
    this.#workers = workers;
    for (const worker of workers) {
      worker.on("message", (report: WorkerReport) => {
        if (report.type === "progress") this.#progress.set(worker, report);
      });
    }
  }

  /** Forks enough workers for the plan, each with whole streamers. */
  static start(plan: FleetPlan): { fleet: LoadFleet; plans: WorkerPlan[] } {
    const streamers = Math.ceil(plan.sessions / plan.playersPerStreamer);
    const sockets = plan.sessions + streamers + 1;
    const count = Math.ceil(sockets / SOCKETS_PER_WORKER);
    const plans = Array.from({ length: count }, (_, i) => ({
      ...plan,
      idPrefix: `bench${i}`,
      worker: i,
      streamers: Math.floor(streamers / count) + (i < streamers % count ? 1 : 0),
    }));
    const workers = plans.map(() =>
      fork(WORKERS[plan.protocol ?? "native"], [], {
        execArgv: ["--import", "tsx"],
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      }),
    );
    return { fleet: new LoadFleet(workers), plans };
  }

  /** User + system CPU seconds all load workers have used so far (from /proc). */
  cpuSeconds(): number {
    return this.cpuSecondsByWorker().reduce((a, b) => a + b, 0);
  }

  /** The same, each worker apart: one worker near 100 % of a core is the generator limiting. */
  cpuSecondsByWorker(): number[] {
    return this.#workers.map((worker) => {
      try {
        const stat = readFileSync(`/proc/${worker.pid}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        return (Number(fields[11]) + Number(fields[12])) / 100;
      } catch {
        return 0; // An exited worker used nothing more.
      }
    });
  }

  /** The workers' process ids (for their file-descriptor limits and counts). */
  pids(): (number | undefined)[] {
    return this.#workers.map((worker) => worker.pid);
  }

  progress(): { connected: number; subscribed: number; failed: number } {
    const sum = { connected: 0, subscribed: 0, failed: 0 };
    for (const p of this.#progress.values()) {
      sum.connected += p.connected;
      sum.subscribed += p.subscribed;
      sum.failed += p.failed;
    }
    return sum;
  }

  async connect(plans: WorkerPlan[]): Promise<Connected> {
    const ready = await Promise.all(
      this.#workers.map((worker, i) => {
        const plan0 = plans[i];
        // A worker gives up by itself after ramp + connect timeout; this bounds a stuck one.
        const answer = this.#next(
          worker,
          "ready",
          (plan0 ? plan0.rampMs + plan0.connectTimeoutMs : 0) + 60_000,
        );
        const plan = plans[i];
        if (plan) send(worker, { type: "start", plan });
        return answer;
      }),
    );
    return {
      subscribed: ready.reduce((n, r) => n + r.subscribed, 0),
      failed: ready.reduce((n, r) => n + r.failed, 0),
      failures: merge(ready.map((r) => r.failures)),
      connectAllMs: Math.max(...ready.map((r) => r.connectAllMs)),
      subscribeToOfferMs: ready.flatMap((r) => r.subscribeToOfferMs),
      subscribeRetries: ready.reduce((n, r) => n + r.subscribeRetries, 0),
      streamerLists: ready.reduce((n, r) => n + r.streamerLists, 0),
      ...(plans.some((p) => p.playerUrl !== p.url)
        ? {
            listedAfterMs: ready.every((r) => r.listedAfterMs !== undefined)
              ? Math.max(...ready.map((r) => r.listedAfterMs ?? 0))
              : Number.NaN,
          }
        : {}),
    };
  }

  broadcast(command: WorkerCommand): void {
    for (const worker of this.#workers) send(worker, command);
  }

  async collect(): Promise<WindowSamples> {
    const all = await Promise.all(
      this.#workers.map((worker) => {
        const answer = this.#next(worker, "samples", 30_000);
        send(worker, { type: "collect" });
        return answer;
      }),
    );
    const merged: WindowSamples = { ...emptyWindow(), seconds: Math.max(...all.map((s) => s.seconds)) };
    for (const s of all) {
      for (const v of s.rtt) merged.rtt.push(v);
      for (const v of s.echo) merged.echo.push(v);
      for (const v of s.iceRtt) merged.iceRtt.push(v);
      merged.iceSent += s.iceSent;
      merged.relayed += s.relayed;
      merged.pingsSent += s.pingsSent;
      merged.pongsReceived += s.pongsReceived;
      merged.disconnects += s.disconnects;
      for (const [reason, n] of Object.entries(s.falseTeardowns)) {
        merged.falseTeardowns[reason] = (merged.falseTeardowns[reason] ?? 0) + n;
      }
    }
    return merged;
  }

  /** Makes `count` sessions lapse (spread over the workers) and waits for their teardowns. */
  async lapse(
    count: number,
    timeoutMs: number,
  ): Promise<{ lateness: number[]; reasons: Record<string, number>; notClosed: number }> {
    const share = Math.ceil(count / this.#workers.length);
    const all = await Promise.all(
      this.#workers.map((worker) => {
        const answer = this.#next(worker, "lapsed", timeoutMs * 2 + 60_000);
        send(worker, { type: "lapse", count: share, timeoutMs });
        return answer;
      }),
    );
    const reasons = merge(all.map((r) => r.reasons));
    return {
      lateness: all.flatMap((r) => r.lateness),
      reasons,
      notClosed: all.reduce((n, r) => n + r.notClosed, 0),
    };
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.#workers.map(async (worker) => {
        if (gone(worker)) return;
        const exited = new Promise((resolve) => worker.once("exit", resolve));
        send(worker, { type: "stop" });
        const timer = setTimeout(() => worker.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  #next<T extends WorkerReport["type"]>(
    worker: ChildProcess,
    type: T,
    timeoutMs: number,
  ): Promise<Extract<WorkerReport, { type: T }>> {
    return new Promise((resolve, reject) => {
      if (gone(worker)) {
        reject(new Error(`a load worker had exited before ${type}`));
        return;
      }
      const timer = setTimeout(() => {
        worker.off("message", onReport);
        worker.off("exit", onExit);
        reject(new Error(`load worker pid ${worker.pid} sent no ${type} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      const onExit = (code: number | null, signal: string | null) => {
        clearTimeout(timer);
        reject(new Error(`load worker exited with ${signal ?? code} while waiting for ${type}`));
      };
      const onReport = (report: WorkerReport) => {
        if (report.type !== type) return;
        clearTimeout(timer);
        worker.off("message", onReport);
        worker.off("exit", onExit);
        resolve(report as Extract<WorkerReport, { type: T }>);
      };
      worker.on("message", onReport);
      worker.once("exit", onExit);
    });
  }
}

/** Exited by itself or killed. */
function gone(worker: ChildProcess): boolean {
  return worker.exitCode !== null || worker.signalCode !== null;
}

/**
 * Sends without throwing when the worker is gone: a dead worker surfaces where the parent
 * waits for its answer (#next rejects on its exit), not as an unhandled 'error' event.
 */
function send(worker: ChildProcess, command: WorkerCommand): void {
  if (!gone(worker)) worker.send(command, () => undefined);
}

function merge(counts: Record<string, number>[]): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const c of counts) for (const [k, n] of Object.entries(c)) sum[k] = (sum[k] ?? 0) + n;
  return sum;
}
