/**
 * Test support: a Node process (the hub or the agent, run from source through tsx) whose JSON
 * log lines on stdout are parsed and can be awaited, so a test reads as "wait until the agent
 * logs `registered`".
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export type LogLine = Record<string, unknown>;

/** The workspace root, so scripts are named the way the README names them. */
export const WORKSPACE_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export class LoggedProcess {
  readonly lines: LogLine[] = [];
  readonly child: ChildProcess;
  private readonly waiters = new Set<() => void>();
  private stderr = "";

  /** Runs `node --import tsx <script> ...args` in the workspace root. */
  constructor(script: string, args: readonly string[]) {
    this.child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
      cwd: WORKSPACE_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, FORCE_COLOR: "0" },
    });
    let pending = "";
    this.child.stdout?.setEncoding("utf8");
    this.child.stdout?.on("data", (chunk: string) => {
      pending += chunk;
      const parts = pending.split("\n");
      pending = parts.pop() ?? "";
      for (const line of parts) {
        if (line.trim() === "") continue;
        try {
          this.lines.push(JSON.parse(line) as LogLine);
        } catch {
          this.lines.push({ msg: line, unparsed: true });
        }
      }
      for (const wake of [...this.waiters]) wake();
    });
    this.child.stderr?.setEncoding("utf8");
    this.child.stderr?.on("data", (chunk: string) => {
      this.stderr += chunk;
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Lines whose `msg` is `msg` and whose fields include `fields`. */
  linesMatching(msg: string, fields: LogLine = {}): LogLine[] {
    return this.lines.filter(
      (line) => line.msg === msg && Object.entries(fields).every(([key, value]) => line[key] === value),
    );
  }

  /** Resolves with the first line matching, past or future; rejects after `timeoutMs`. */
  waitForLine(msg: string, fields: LogLine = {}, timeoutMs = 15_000): Promise<LogLine> {
    return this.waitFor(
      `log "${msg}" ${JSON.stringify(fields)}`,
      () => this.linesMatching(msg, fields)[0],
      timeoutMs,
    );
  }

  /** Resolves with the first line `find` returns, past or future; rejects after `timeoutMs`. */
  waitFor(what: string, find: () => LogLine | undefined, timeoutMs = 15_000): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const line = find();
        if (line) resolve(line);
        return line !== undefined;
      };
      if (check()) return;
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${what}; stderr: ${this.stderr.slice(-500)}`,
          ),
        );
      }, timeoutMs);
      const wake = (): void => {
        if (check()) {
          clearTimeout(timer);
          this.waiters.delete(wake);
        }
      };
      this.waiters.add(wake);
    });
  }

  /** Sends `signal` and resolves with the exit code once the process has exited. */
  async stop(signal: NodeJS.Signals = "SIGTERM", timeoutMs = 10_000): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    const exited = new Promise<number | null>((resolve) =>
      this.child.once("exit", (code) => {
        resolve(code);
      }),
    );
    this.child.kill(signal);
    const timer = setTimeout(() => {
      this.child.kill("SIGKILL");
    }, timeoutMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }
}
