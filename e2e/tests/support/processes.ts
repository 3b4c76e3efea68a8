/**
 * Starts the real hub and the real streamer agent as child processes (node --import tsx, so
 * the pid is the process itself and `kill -STOP` freezes it) and collects their JSON log lines.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

export type LogLine = Record<string, unknown> & { msg?: string };

export class Managed {
  readonly logs: LogLine[] = [];
  readonly #waiters: { predicate: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  #stderr = "";
  #exited: Promise<void>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    let buffered = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) this.#onLine(line);
    });
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      this.#stderr = (this.#stderr + chunk).slice(-4000);
    });
    this.#exited = new Promise((resolve) =>
      child.once("exit", () => {
        resolve();
      }),
    );
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.name} has no pid`);
    return this.child.pid;
  }

  #onLine(line: string): void {
    if (!line.startsWith("{")) return;
    let parsed: LogLine;
    try {
      parsed = JSON.parse(line) as LogLine;
    } catch {
      return;
    }
    this.logs.push(parsed);
    for (const waiter of [...this.#waiters]) {
      if (waiter.predicate(parsed)) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve(parsed);
      }
    }
  }

  /** The first log line (already seen or to come) matching `predicate`. */
  waitForLog(
    predicate: (l: LogLine) => boolean,
    timeoutMs = 20_000,
    description = "log line",
  ): Promise<LogLine> {
    const seen = this.logs.find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(
            `${this.name}: no ${description} within ${timeoutMs} ms. Last lines:\n` +
              this.logs
                .slice(-15)
                .map((l) => JSON.stringify(l))
                .join("\n") +
              `\nstderr: ${this.#stderr}`,
          ),
        );
      }, timeoutMs);
      this.#waiters.push({
        predicate,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
    });
  }

  /** Resolves once the process has exited (at once if it already has). */
  exited(): Promise<void> {
    return this.#exited;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null) process.kill(this.pid, signal);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.signal("SIGCONT");
    this.signal("SIGTERM");
    const killer = setTimeout(() => {
      this.signal("SIGKILL");
    }, 5000);
    await this.#exited;
    clearTimeout(killer);
  }
}

function start(name: string, script: string, args: string[]): Managed {
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, FORCE_COLOR: "0" },
  });
  return new Managed(name, child);
}

export interface HubProcess extends Managed {
  url: string;
}

export async function startHub(args: string[] = []): Promise<HubProcess> {
  // Open mode (explicit, as the config requires) unless the test passes its own auth flags later.
  const hub = start("hub", "server/src/main.ts", [
    "--port",
    "0",
    "--log-level",
    "debug",
    "--auth-open",
    "true",
    ...args,
  ]);
  const listening = await hub.waitForLog(
    (l) => typeof l.url === "string" && l.playerUrl !== undefined,
    20_000,
    "'listening'",
  );
  return Object.assign(hub, { url: listening.url as string });
}

export async function startAgent(hubUrl: string, streamerId: string, args: string[] = []): Promise<Managed> {
  const agent = start("agent", "streamer-agent/src/cli.ts", [
    "--hub",
    hubUrl,
    "--id",
    streamerId,
    "--loopback-only",
    "true",
    ...args,
  ]);
  await agent.waitForLog((l) => l.msg === "registered", 20_000, "'registered'");
  return agent;
}
