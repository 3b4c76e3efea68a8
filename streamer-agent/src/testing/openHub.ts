import { LoggedProcess } from "./LoggedProcess.js";

/**
 * The real hub (server/src/main.ts) in open mode on `port`, resolved once it listens. No keys or
 * tokens here: access control has tests of its own (agent.hub.test.ts and server/).
 */
export async function startOpenHub(port: number, args: readonly string[] = []): Promise<LoggedProcess> {
  const hub = new LoggedProcess("server/src/main.ts", [
    "--port",
    String(port),
    "--auth-open",
    "true",
    ...args,
  ]);
  await hub.waitFor("the hub to listen", () => hub.lines.find((line) => typeof line.url === "string"));
  return hub;
}
