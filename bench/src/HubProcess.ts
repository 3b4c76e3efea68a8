/** The parent's handle on a hub child: start, memory over IPC, CPU from /proc/<pid>/stat. */
import { fork, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { ClusterArgs, HubCommand, HubKind, HubReport } from "./protocol.js";

const CHILD = fileURLToPath(new URL("./hubChild.ts", import.meta.url));
const TICKS_PER_SECOND = 100;
/** Lines of a hub's own output kept for the report of a failed scenario. */
const LOG_LINES = 30;

export class HubProcess {
  readonly #child: ChildProcess;
  readonly #name: string;
  readonly #log: string[];
  readonly url: string;
  readonly pid: number | undefined;

  private constructor(child: ChildProcess, name: string, port: number, log: string[]) {
    this.#child = child;
    this.#name = name;
    this.#log = log;
    this.url = `http://127.0.0.1:${port}`;
    this.pid = child.pid;
  }

  /** Exited (by itself, or killed); then it has no CPU figures and answers nothing. */
  get #gone(): boolean {
    return this.#child.exitCode !== null || this.#child.signalCode !== null;
  }

  /** Why it is gone, for an error that says which hub died mid-run. */
  get #goneError(): Error {
    return new Error(
      `${this.#name} hub exited mid-run (${this.#child.signalCode ?? `code ${this.#child.exitCode}`})`,
    );
  }

  /** Starts a hub; with `cluster` (heartline only), as a node of that cluster. */
  static async start(kind: HubKind, intervalMs: number, cluster?: ClusterArgs): Promise<HubProcess> {
    const args = [kind, String(intervalMs), ...(cluster ? [JSON.stringify(cluster)] : [])];
    const name = cluster ? `${kind} node ${cluster.nodeId}` : kind;
    const child = fork(CHILD, args, {
      // BENCH_CPU_PROF=<dir>: write a V8 CPU profile of each hub there when it stops.
      execArgv: [
        "--import",
        "tsx",
        "--expose-gc",
        ...(process.env.BENCH_CPU_PROF ? ["--cpu-prof", "--cpu-prof-dir", process.env.BENCH_CPU_PROF] : []),
      ],
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    // The hub's own (warn-level) log goes to our stderr, never into the result table; its last
    // lines are kept for the report if the scenario fails.
    const log: string[] = [];
    for (const stream of [child.stdout, child.stderr]) {
      stream?.on("data", (chunk: Buffer) => {
        process.stderr.write(chunk);
        for (const line of chunk.toString("utf8").split("\n")) {
          if (line.trim() === "") continue;
          log.push(line.length > 500 ? `${line.slice(0, 500)}…` : line);
          if (log.length > LOG_LINES) log.shift();
        }
      });
    }
    child.once("exit", (code, signal) => {
      log.push(`(${name} hub process exited: ${signal ?? `code ${code}`})`);
    });
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${name} hub did not start within 30 s`));
      }, 30_000);
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        const said = log
          .filter((line) => !line.startsWith("("))
          .slice(-5)
          .join(" | ");
        reject(
          new Error(`${name} hub exited with ${signal ?? code} before listening${said ? `: ${said}` : ""}`),
        );
      });
      child.on("message", (report: HubReport) => {
        if (report.type === "listening") {
          clearTimeout(timer);
          resolve(report.port);
        }
      });
    }).catch((error: unknown) => {
      // Never leave a half-started hub behind.
      child.kill("SIGKILL");
      throw error;
    });
    return new HubProcess(child, name, port, log);
  }

  /** The hub's last lines of output (stdout and stderr), and its exit if it has exited. */
  lastLog(): string[] {
    return [...this.#log];
  }

  /** "heartline", "heartline node a": for messages that say which hub. */
  get name(): string {
    return this.#name;
  }

  /** User + system CPU seconds the hub has used so far. */
  cpuSeconds(): number {
    if (this.#gone) throw this.#goneError;
    const stat = readFileSync(`/proc/${this.#child.pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start at field 3.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  }

  /** Heap after a full GC, and RSS, in bytes. */
  memory(): Promise<{ heapUsed: number; rss: number }> {
    return new Promise((resolve, reject) => {
      if (this.#gone) {
        reject(this.#goneError);
        return;
      }
      const timer = setTimeout(() => {
        this.#child.off("message", onReport);
        reject(new Error("hub did not report its memory within 30 s"));
      }, 30_000);
      const onReport = (report: HubReport) => {
        if (report.type === "memory") {
          clearTimeout(timer);
          this.#child.off("message", onReport);
          resolve({ heapUsed: report.heapUsed, rss: report.rss });
        }
      };
      this.#child.on("message", onReport);
      this.#child.send({ type: "memory" } satisfies HubCommand, (error) => {
        if (!error) return;
        clearTimeout(timer);
        this.#child.off("message", onReport);
        reject(this.#gone ? this.#goneError : error);
      });
    });
  }

  async stop(): Promise<void> {
    if (this.#gone) return;
    const exited = new Promise((resolve) => this.#child.once("exit", resolve));
    // A send error means the channel is already closing: the kill below still bounds the wait.
    this.#child.send({ type: "stop" } satisfies HubCommand, () => undefined);
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }
}
