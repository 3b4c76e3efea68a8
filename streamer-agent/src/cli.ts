#!/usr/bin/env -S npx tsx
/**
 * heartline-agent: registers with a hub and streams live video (test pattern, media file or any
 * ffmpeg input) to every player; with `--protocol pixelstreaming` it is a Pixel Streaming
 * streamer (like Unreal) for heartline's /ps/streamer or Epic's Wilbur.
 * Wiring only: options, logger, the Agent, the status line on a terminal, and a clean exit on
 * SIGINT/SIGTERM.
 *
 *   tsx streamer-agent/src/cli.ts --hub http://127.0.0.1:8080 --id cam1
 */
import { ConfigError } from "@heartline/shared/config";
import { Agent, type AgentStatus } from "./Agent.js";
import { createLogger } from "./log.js";
import { agentHelp, loadAgentOptions, psStreamerUrl, type LoadedAgentOptions } from "./options.js";
import { redactUrl } from "./pixelstreaming/PsStreamerClient.js";
import { PsStreamer } from "./pixelstreaming/PsStreamer.js";
import { redactCredentials } from "./media/source.js";
import { StatusLine } from "./status/StatusLine.js";

/** Exit codes: 0 stopped on request, 1 cannot run (ffmpeg missing, crash), 2 bad options. */
const EXIT_FATAL = 1;
const EXIT_BAD_OPTIONS = 2;

let loaded: LoadedAgentOptions;
try {
  loaded = loadAgentOptions();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  const problems = error.problems.map((problem) => `  - ${problem}`).join("\n");
  const hint = error.message.includes("--help") ? "" : "Run with --help to list the options.\n";
  process.stderr.write(`heartline-agent: invalid options:\n${problems}\n${hint}`);
  process.exit(EXIT_BAD_OPTIONS);
}
if (loaded.helpRequested) {
  process.stdout.write(agentHelp());
  process.exit(0);
}

const { options } = loaded;
const tty = process.stdout.isTTY;
// On a terminal, one line kept up to date below the logs; piped output stays pure JSON lines.
const statusLine = new StatusLine({ out: process.stdout, read: () => agent.status() });
const logger = createLogger(options.logLevel, tty, statusLine);
const dependencies = {
  logger,
  // The encoder has already logged why (and what to install); all that is left is to exit.
  onFatal: () => {
    void shutdown(EXIT_FATAL);
  },
};
const agent: Pick<Agent, "start" | "stop"> & { status(): AgentStatus } =
  options.protocol === "pixelstreaming"
    ? new PsStreamer(options, dependencies)
    : new Agent(options, dependencies);

let shuttingDown = false;
async function shutdown(code: number): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  try {
    await agent.stop();
  } catch (error) {
    logger.error({ err: error }, "error while stopping");
  }
  statusLine.stop();
  logger.info({ code }, "agent stopped");
  process.exit(code);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (shuttingDown) return; // A terminal may deliver the same Ctrl-C twice.
    logger.info({ signal }, "stopping");
    void shutdown(0);
  });
}
process.on("uncaughtException", (error) => {
  logger.fatal({ err: error }, "uncaught exception; stopping");
  void shutdown(EXIT_FATAL);
});
// A stray rejection inside one peer connection must not take every viewer's stream down.
process.on("unhandledRejection", (reason) => {
  logger.error({ err: reason }, "unhandled promise rejection");
});

logger.info(
  {
    protocol: options.protocol,
    hub: options.protocol === "pixelstreaming" ? redactUrl(psStreamerUrl(options.hub)) : options.hub,
    streamerId: options.id,
    // Never the key itself: only whether one is set.
    key: options.key === undefined ? "none" : "set",
    source: redactCredentials(options.source),
    codec: options.codec,
    video: `${options.size}@${options.fps}`,
    bitrateKbps: options.bitrate,
    loopbackOnly: options.loopbackOnly,
  },
  "starting agent",
);
agent
  .start()
  .then(() => {
    if (tty) statusLine.start();
  })
  .catch((error: unknown) => {
    logger.fatal({ err: error }, error instanceof Error ? error.message : "agent failed to start");
    void shutdown(EXIT_FATAL);
  });
