/**
 * The shared network namespace (`@heartline/shared/testing`, see Netns.ts there) plus the real
 * streamer agent started inside it.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Netns as SharedNetns } from "@heartline/shared/testing";
import { Managed } from "./processes.js";

export { canUseNetns } from "@heartline/shared/testing";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

export class Netns extends SharedNetns {
  /**
   * The real agent, started inside the namespace. Not loopback-only: its ICE candidates are on
   * the namespace's `eth-*` interface, so the media crosses the link too.
   */
  async startAgent(hubUrl: string, streamerId: string, args: string[] = []): Promise<Managed> {
    const [ip = "ip", ...argv] = this.command([
      process.execPath,
      "--import",
      "tsx",
      "streamer-agent/src/cli.ts",
      "--hub",
      hubUrl,
      "--id",
      streamerId,
      "--loopback-only",
      "false",
      ...args,
    ]);
    // `ip netns exec` execs the command, so the pid is the agent's own.
    const child = spawn(ip, argv, {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, FORCE_COLOR: "0" },
    });
    const agent = new Managed("agent", child);
    await agent.waitForLog((l) => l.msg === "registered", 20_000, "'registered'");
    return agent;
  }
}
