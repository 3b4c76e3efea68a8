/**
 * The parent's handle on one hub node child: start it, read its counters and CPU, notice when it
 * dies (and why), stop it. Every node started is also killed when the parent exits, however it
 * exits (see `killAllNodes`).
 */
import { fork, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { AdapterKind, NodeCommand, NodeCounters, NodeReport } from "./protocol.js";

const CHILD = fileURLToPath(new URL("./nodeChild.ts", import.meta.url));
const TICKS_PER_SECOND = 100;
const TAIL_CHARS = 4000;

const live = new Set<ChildProcess>();

/** SIGKILLs every node child still running. Synchronous, so it may run in an `exit` handler. */
export function killAllNodes(): void {
  for (const child of live) child.kill("SIGKILL");
  live.clear();
}

export interface NodeExit {
  code: number | null;
  signal: string | null;
  /** performance.now() of the parent when the exit was seen. */
  at: number;
  /** The first line of its stderr that names an error, if any (an unhandled rejection prints one). */
  error?: string;
}

/** User + system CPU seconds a process has used so far, from /proc/<pid>/stat. */
export function cpuSecondsOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start at field 3.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

export class NodeProcess {
  readonly #child: ChildProcess;
  #stderr = "";
  #exit: NodeExit | undefined;
  #url = "";

  private constructor(
    readonly name: string,
    child: ChildProcess,
  ) {
    this.#child = child;
    child.stderr?.on("data", (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      this.#stderr = (this.#stderr + text).slice(-TAIL_CHARS);
      for (const line of text.split("\n"))
        if (line.trim() !== "") process.stderr.write(`[node ${name}] ${line}\n`);
    });
    child.stdout?.on("data", (chunk: Buffer) => {
      process.stderr.write(`[node ${name}] ${chunk.toString("utf8")}`);
    });
    child.once("exit", (code, signal) => {
      live.delete(child);
      const error = /^\s*(\S*(?:Error|Unhandled)\S*:?.*)$/m.exec(this.#stderr)?.[1]?.trim();
      this.#exit = { code, signal, at: performance.now(), ...(error === undefined ? {} : { error }) };
    });
  }

  static async start(
    name: string,
    adapter: AdapterKind,
    redisUrl: string,
    protect: boolean,
  ): Promise<NodeProcess> {
    const child = fork(CHILD, [adapter, redisUrl, protect ? "protected" : "raw"], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    live.add(child);
    const node = new NodeProcess(name, child);
    const listening = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`node ${name} did not start within 30 s`));
      }, 30_000);
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`node ${name} exited with ${String(code)} before listening`));
      });
      child.on("message", (report: NodeReport) => {
        if (report.type === "listening") {
          clearTimeout(timer);
          resolve(`http://127.0.0.1:${report.port}`);
        }
      });
    });
    try {
      node.#url = await listening;
    } catch (error) {
      child.kill("SIGKILL");
      throw error;
    }
    return node;
  }

  /** http://127.0.0.1:<port> */
  get url(): string {
    return this.#url;
  }

  /** Set once the process has exited. */
  get exit(): NodeExit | undefined {
    return this.#exit;
  }

  cpuSeconds(): number {
    return this.#exit ? 0 : cpuSecondsOf(this.#child.pid);
  }

  /** The node's counters, or undefined if it is gone or does not answer within a second. */
  async counters(): Promise<NodeCounters | undefined> {
    if (this.#exit || !this.#child.connected) return undefined;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#child.off("message", onReport);
        resolve(undefined);
      }, 1000);
      const onReport = (report: NodeReport): void => {
        if (report.type !== "counters") return;
        clearTimeout(timer);
        this.#child.off("message", onReport);
        const { redisErrors, publishErrorsCaught, relaysDropped } = report;
        resolve({ redisErrors, publishErrorsCaught, relaysDropped });
      };
      this.#child.on("message", onReport);
      this.#child.send({ type: "counters" } satisfies NodeCommand);
    });
  }

  /** Asks the node to exit; SIGKILL after 3 s. */
  async stop(): Promise<void> {
    if (this.#exit) return;
    const exited = new Promise<void>((resolve) =>
      this.#child.once("exit", () => {
        resolve();
      }),
    );
    if (this.#child.connected) this.#child.send({ type: "stop" } satisfies NodeCommand);
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), 3000);
    await exited;
    clearTimeout(timer);
  }
}
