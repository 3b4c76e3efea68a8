/**
 * Test support: a real `redis-server` (Debian's) on a free loopback port, with no persistence,
 * that a test can kill and start again on the same port to play a Redis outage.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { freePort } from "./ports.js";

export class RedisServer {
  #child: ChildProcess | undefined;
  #log = "";

  private constructor(
    readonly port: number,
    readonly args: readonly string[],
  ) {}

  /**
   * Starts a fresh server on a free port; throws with its output if it does not come up. `args`
   * are more redis-server options (e.g. `--requirepass`, `--user`).
   */
  static async start(args: readonly string[] = []): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), args);
    await server.restart();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  /** Starts the server again on the same port (after `kill`). Its data starts empty. */
  async restart(): Promise<void> {
    if (this.#child) return;
    this.#log = "";
    const child = spawn(
      "redis-server",
      ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", ...this.args],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    this.#child = child;
    const ready = new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        this.#log += chunk.toString("utf8");
        if (this.#log.includes("Ready to accept connections")) resolve();
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
      child.once("error", (error) => {
        reject(new Error(`could not run redis-server (apt-get install -y redis-server): ${error.message}`));
      });
      child.once("exit", (code) => {
        reject(new Error(`redis-server exited with ${String(code)} before it was ready:\n${this.#log}`));
      });
    });
    child.once("exit", () => {
      if (this.#child === child) this.#child = undefined;
    });
    await ready;
  }

  /** Kills the server at once (SIGKILL: no goodbye to its clients). */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    const exited = new Promise<void>((resolve) =>
      child.once("exit", () => {
        resolve();
      }),
    );
    child.kill("SIGKILL");
    await exited;
  }

  async stop(): Promise<void> {
    await this.kill();
  }
}
