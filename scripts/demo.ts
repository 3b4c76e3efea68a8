/**
 * `pnpm demo`: a hub and one agent streaming the test pattern, then the URL to open.
 * Extra arguments go to the hub (`pnpm demo --port 9000 --heartbeat-interval-ms 1000`).
 * `--pixel-streaming`: the hub speaks Epic's Pixel Streaming too, the agent streams as a Pixel
 * Streaming streamer (like Unreal), and the link is Epic's stock player at /ps/.
 * The demo also makes an admin token for this run (unless one is configured), so the dashboard
 * is one click away. Ctrl-C stops both.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { ConfigError, HubConfigSchema, loadConfig } from "@heartline/shared/config";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const STREAMER_ID = "demo";
const pixelStreaming = process.argv.includes("--pixel-streaming");
// A fresh admin token for this run only, so the dashboard works out of the box; a configured
// admin.token (file, environment or --admin-token) wins, as later sources do.
const demoAdminToken = randomBytes(24).toString("hex");
// The demo lets anyone on this machine watch: open mode, stated explicitly. Later flags win.
const args = [
  "--auth-open",
  "true",
  ...(pixelStreaming ? ["--pixel-streaming-enabled", "true"] : []),
  ...process.argv.slice(2).filter((arg) => arg !== "--pixel-streaming"),
];

let hubConfig;
try {
  // Same sources as the hub itself, so the agent is pointed where the hub really listens.
  hubConfig = loadConfig(HubConfigSchema, {
    envPrefix: "HEARTLINE",
    defaultFile: "heartline.config.json",
    argv: args,
  });
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`demo: ${error.problems.join("\n")}\n`);
    process.exit(2);
  }
  throw error;
}
const { host, port, pixelStreaming: psConfig } = hubConfig.config;
const configuredAdminToken = hubConfig.config.admin.token !== undefined;
if (!configuredAdminToken) args.push("--admin-token", demoAdminToken);

const reachableHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
const hubUrl = `http://${reachableHost}:${port}`;

const children: ChildProcess[] = [];
function start(script: string, scriptArgs: string[]): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", script, ...scriptArgs], {
    cwd: ROOT,
    stdio: "inherit",
  });
  children.push(child);
  child.once("exit", (code, signal) => {
    if (!stopping) {
      process.stderr.write(`demo: ${script} exited (${signal ?? `code ${code ?? "?"}`}); stopping.\n`);
      stop(1);
    }
  });
  return child;
}

let stopping = false;
function stop(code: number): void {
  if (stopping) return;
  stopping = true;
  for (const child of children) child.kill("SIGTERM");
  setTimeout(() => process.exit(code), 2000).unref();
  Promise.all(children.map((c) => new Promise((resolve) => c.once("exit", resolve)))).then(
    () => process.exit(code),
    () => process.exit(code),
  );
}
process.on("SIGINT", () => {
  stop(0);
});
process.on("SIGTERM", () => {
  stop(0);
});

async function waitForHub(): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${hubUrl}/healthz`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the hub did not answer at ${hubUrl}/healthz within 20 s`);
}

async function main(): Promise<void> {
  start("server/src/main.ts", args);
  try {
    await waitForHub();
  } catch (error) {
    process.stderr.write(`demo: ${(error as Error).message}\n`);
    stop(1);
    return;
  }
  const lines: [string, string][] = [];
  if (pixelStreaming) {
    const streamerUrl = `${hubUrl.replace(/^http/, "ws")}${psConfig.streamerPath}`;
    start("streamer-agent/src/cli.ts", [
      "--protocol",
      "pixelstreaming",
      "--hub",
      streamerUrl,
      "--id",
      STREAMER_ID,
    ]);
    lines.push(
      ["Open Epic's player", `${hubUrl}/ps/?StreamerId=${STREAMER_ID}`],
      ["  (UE 5.7 frontend)", `${hubUrl}/ps/ue5.7/?StreamerId=${STREAMER_ID}`],
    );
  } else {
    start("streamer-agent/src/cli.ts", ["--hub", hubUrl, "--id", STREAMER_ID]);
    lines.push(["Open the player", `${hubUrl}/?streamer=${STREAMER_ID}`]);
  }
  if (configuredAdminToken) {
    lines.push(["Dashboard", `${hubUrl}/dashboard (sign in with your admin.token)`]);
  } else {
    lines.push(
      ["Dashboard", `${hubUrl}/dashboard#token=${demoAdminToken}`],
      ["", "(demo only: an admin token made for this run; set admin.token for real use)"],
    );
  }
  lines.push(["Stop", "Ctrl-C"]);
  const width = Math.max(...lines.map(([label]) => label.length)) + 3;
  const title = pixelStreaming
    ? "heartline demo is running, speaking Pixel Streaming."
    : "heartline demo is running.";
  const body = lines.map(([label, value]) => `  ${(label ? `${label}:` : "").padEnd(width)}${value}`);
  process.stdout.write(`\n  ${title}\n\n${body.join("\n")}\n\n`);
}

await main();
