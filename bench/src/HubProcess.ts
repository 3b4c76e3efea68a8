/** The parent's handle on a hub child: start, memory over IPC, CPU from /proc/<pid>/stat. */
import { fork, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { HubCommand, HubKind, HubReport } from "./protocol.js";

const CHILD = fileURLToPath(new URL("./hubChild.ts", import.meta.url));
const TICKS_PER_SECOND = 100;

export class HubProcess {
  readonly #child: ChildProcess;
  readonly url: string;

  private constructor(child: ChildProcess, port: number) {
    this.#child = child;
    this.url = `http://127.0.0.1:${port}`;
  }

  static async start(kind: HubKind, intervalMs: number): Promise<HubProcess> {
    const child = fork(CHILD, [kind, String(intervalMs)], {
      // BENCH_CPU_PROF=<dir>: write a V8 CPU profile of each hub there when it stops.
      execArgv: [
        "--import",
        "tsx",
        "--expose-gc",
        ...(process.env.BENCH_CPU_PROF ? ["--cpu-prof", "--cpu-prof-dir", process.env.BENCH_CPU_PROF] : []),
      ],
      stdio: ["ignore", "pipe", "inherit", "ipc"],
    });
    // The hub's own (warn-level) log goes to our stderr, never into the result table.
    child.stdout?.pipe(process.stderr);
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${kind} hub did not start within 30 s`));
      }, 30_000);
      child.once("exit", (code) => {
        reject(new Error(`${kind} hub exited with ${code}`));
      });
      child.on("message", (report: HubReport) => {
        if (report.type === "listening") {
          clearTimeout(timer);
          resolve(report.port);
        }
      });
    });
    return new HubProcess(child, port);
  }

  /** User + system CPU seconds the hub has used so far. */
  cpuSeconds(): number {
    const stat = readFileSync(`/proc/${this.#child.pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start at field 3.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  }

  /** Heap after a full GC, and RSS, in bytes. */
  memory(): Promise<{ heapUsed: number; rss: number }> {
    return new Promise((resolve) => {
      const onReport = (report: HubReport) => {
        if (report.type === "memory") {
          this.#child.off("message", onReport);
          resolve({ heapUsed: report.heapUsed, rss: report.rss });
        }
      };
      this.#child.on("message", onReport);
      this.#child.send({ type: "memory" } satisfies HubCommand);
    });
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once("exit", resolve));
    this.#child.send({ type: "stop" } satisfies HubCommand);
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }
}
