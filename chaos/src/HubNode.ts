/**
 * One hub node of the run: the real hub (`server/src/main.ts` with a config file), which the
 * schedule may SIGKILL and start again on the same port. Its JSON log is its history: every line
 * goes to `hub-<node>.<inc>.log` in the run directory, and the session lines and error-level
 * lines are handed to the runner as they come. A preload (hubMemory.ts) answers heap questions
 * over IPC after a full GC.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { HubError, HubEvent, NodeName, NodeSnapshot } from "./history.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PRELOAD = fileURLToPath(new URL("./hubMemory.ts", import.meta.url));
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5000;
const HTTP_TIMEOUT_MS = 5000;
/** pino's numeric levels: error and fatal. */
const ERROR_LEVEL = 50;

export interface HubNodeOptions {
  node: NodeName;
  host: string;
  port: number;
  runDir: string;
  adminToken: string;
  /** The hub's config file contents (port, host, log level and admin token are added). */
  config: Record<string, unknown>;
  onEvent: (event: HubEvent) => void;
  onError: (error: HubError) => void;
  /** The process exited; `expected` when the runner killed or stopped it. */
  onExit: (code: number | null, signal: string | null, expected: boolean) => void;
}

export class HubNode {
  readonly url: string;
  #child: ChildProcess | undefined;
  #inc = -1;
  #expectExit = false;
  readonly #configFile: string;

  constructor(readonly options: HubNodeOptions) {
    this.url = `http://${options.host}:${options.port}`;
    this.#configFile = join(options.runDir, `hub-${options.node}.config.json`);
    writeFileSync(
      this.#configFile,
      JSON.stringify(
        {
          ...options.config,
          port: options.port,
          host: options.host,
          log: { level: "info" },
          admin: { token: options.adminToken },
        },
        null,
        2,
      ),
    );
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  /** Starts the hub (again, after a kill) and resolves once it listens. */
  async start(): Promise<void> {
    if (this.#child) return;
    this.#inc++;
    this.#expectExit = false;
    const inc = this.#inc;
    const { node } = this.options;
    const log = createWriteStream(join(this.options.runDir, `hub-${node}.${inc}.log`));
    const child = spawn(
      process.execPath,
      [
        "--expose-gc",
        "--import",
        "tsx",
        "--import",
        PRELOAD,
        "server/src/main.ts",
        "--config",
        this.#configFile,
      ],
      { cwd: ROOT, stdio: ["ignore", "pipe", "pipe", "ipc"], env: { ...process.env, FORCE_COLOR: "0" } },
    );
    this.#child = child;
    let listening: (() => void) | undefined;
    let buffered = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      log.write(chunk);
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        const parsed = parseLine(line);
        if (!parsed) continue;
        if (typeof parsed.playerUrl === "string") listening?.();
        this.#onLine(parsed, inc);
      }
    });
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => log.write(chunk));
    const exited = new Promise<void>((resolve) => {
      child.once("exit", (code, signal) => {
        if (this.#child === child) this.#child = undefined;
        log.end();
        this.options.onExit(code, signal, this.#expectExit);
        resolve();
      });
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(
            `hub ${node} did not listen within ${START_TIMEOUT_MS / 1000} s (see its log in the run directory)`,
          ),
        );
      }, START_TIMEOUT_MS);
      listening = () => {
        clearTimeout(timer);
        resolve();
      };
      void exited.then(() => {
        clearTimeout(timer);
        reject(
          new Error(`hub ${node} exited before listening (see hub-${node}.${inc}.log in the run directory)`),
        );
      });
    });
  }

  #onLine(line: Record<string, unknown>, inc: number): void {
    const t = typeof line.time === "number" ? line.time : Date.now();
    const { node } = this.options;
    if (typeof line.level === "number" && line.level >= ERROR_LEVEL)
      this.options.onError({ t, node, msg: String(line.msg) });
    if (typeof line.sessionId !== "string") return;
    if (line.msg === "session started")
      this.options.onEvent({ t, node, inc, ev: "started", sessionId: line.sessionId });
    else if (line.msg === "session closed")
      this.options.onEvent({
        t,
        node,
        inc,
        ev: "closed",
        sessionId: line.sessionId,
        reason: String(line.reason),
      });
  }

  signal(signal: NodeJS.Signals): void {
    const pid = this.#child?.pid;
    if (pid !== undefined) process.kill(pid, signal);
  }

  /** SIGKILL, as the schedule does: no goodbye to anyone. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#expectExit = true;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  }

  /** SIGTERM (every session ends as hub-shutdown), SIGKILL if it does not exit in time. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#expectExit = true;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }

  /** Heap used after a full GC, bytes. */
  heapUsed(): Promise<number> {
    const child = this.#child;
    if (!child) return Promise.reject(new Error(`hub ${this.options.node} is not running`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.off("message", onMessage);
        reject(new Error(`hub ${this.options.node} did not report its heap within ${HTTP_TIMEOUT_MS} ms`));
      }, HTTP_TIMEOUT_MS);
      const onMessage = (message: { type?: string; heapUsed?: number }) => {
        if (message.type !== "memory" || typeof message.heapUsed !== "number") return;
        clearTimeout(timer);
        child.off("message", onMessage);
        resolve(message.heapUsed);
      };
      child.on("message", onMessage);
      child.send({ type: "memory" });
    });
  }

  async #get(path: string): Promise<Response> {
    const response = await fetch(`${this.url}${path}`, {
      headers: { authorization: `Bearer ${this.options.adminToken}` },
      signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
    });
    if (!response.ok) throw new Error(`hub ${this.options.node}: GET ${path} answered ${response.status}`);
    return response;
  }

  /** Session ids in `/api/sessions`. */
  async sessionIds(): Promise<string[]> {
    const body = (await (await this.#get("/api/sessions")).json()) as { sessions: { id: string }[] };
    return body.sessions.map((session) => session.id);
  }

  /** What the leak check needs from this node now (heapBaseline filled in by the caller). */
  async snapshot(heapBaseline: number): Promise<NodeSnapshot> {
    const [apiSessions, metrics, heapEnd] = await Promise.all([
      this.sessionIds(),
      this.#get("/metrics").then((response) => response.text()),
      this.heapUsed(),
    ]);
    return {
      node: this.options.node,
      apiSessions,
      metricSessions: sumMetric(metrics, "heartline_sessions"),
      metricSockets: sumMetric(
        metrics,
        "heartline_connected_sockets",
        (labels) => !labels.includes('role="admin"'),
      ),
      processErrors: sumMetric(metrics, "heartline_process_errors_total"),
      heapBaseline,
      heapEnd,
    };
  }
}

function parseLine(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Sum of a Prometheus metric's samples (text format), optionally only some label sets. */
export function sumMetric(
  text: string,
  name: string,
  keep: (labels: string) => boolean = () => true,
): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-z_]+)(\{[^}]*\})? ([-+0-9.eE]+|NaN)$/.exec(line);
    if (!match || match[1] !== name || !keep(match[2] ?? "")) continue;
    sum += Number(match[3]);
  }
  return sum;
}
