/**
 * The real hub and the real streamer agent as child processes (through the agent's test
 * support, which parses their JSON logs), and the stopping of every one of them.
 */
import { LoggedProcess } from "@heartline/streamer-agent/src/testing/LoggedProcess.js";
import { startOpenHub } from "@heartline/streamer-agent/src/testing/openHub.js";
import { descendantPids } from "./procCpu.js";

export const STREAMER_ID = "bench";

const running = new Set<LoggedProcess>();

function track(process: LoggedProcess): LoggedProcess {
  running.add(process);
  process.child.once("exit", () => running.delete(process));
  return process;
}

export function pidOf(process: LoggedProcess): number {
  if (process.pid === undefined) throw new Error("child process has no pid");
  return process.pid;
}

export async function startHub(): Promise<{ hub: LoggedProcess; url: string }> {
  const hub = track(await startOpenHub(0));
  const url = hub.lines.find((line) => typeof line.url === "string")?.url;
  if (typeof url !== "string") throw new Error("the hub logged no url");
  return { hub, url };
}

export async function startAgent(hubUrl: string, extraArgs: readonly string[]): Promise<LoggedProcess> {
  const agent = track(
    new LoggedProcess("streamer-agent/src/cli.ts", [
      "--hub",
      hubUrl,
      "--id",
      STREAMER_ID,
      "--loopback-only",
      "true",
      ...extraArgs,
    ]),
  );
  await agent.waitForLine("registered", {}, 30_000);
  return agent;
}

/** SIGTERM (SIGKILL after 5 s), then SIGKILL any descendant (ffmpeg) the process left behind. */
export async function stopProcess(process: LoggedProcess): Promise<void> {
  const pid = process.pid;
  const orphans = pid === undefined ? [] : descendantPids(pid);
  await process.stop("SIGTERM", 5000);
  for (const orphan of orphans) {
    try {
      globalThis.process.kill(orphan, "SIGKILL");
    } catch {
      // Already gone, as it should be.
    }
  }
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map(stopProcess));
}
