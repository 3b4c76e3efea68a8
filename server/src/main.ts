#!/usr/bin/env -S npx tsx
/** The hub's entry point: configuration, logging and signals. The wiring is in hub.ts. */
import {
  ConfigError,
  HubConfigSchema,
  configHelp,
  heartbeatSettings,
  loadConfig,
} from "@heartline/shared/config";
import { ConfigReloader } from "./config/ConfigReloader.js";
import { createHub } from "./hub.js";
import { createLogger } from "./log.js";

const ENV_PREFIX = "HEARTLINE";
const USAGE = `Usage: pnpm hub [options]

Runs the heartline hub: serves the player at /, relays signaling and heartbeats.
Options (later sources win: defaults < heartline.config.json or --config <file> < env < flags):
  --config <path>
      JSON config file (default: ./heartline.config.json if present)
      env: ${ENV_PREFIX}_CONFIG
  -h, --help
      Show this help
${configHelp(HubConfigSchema, ENV_PREFIX)}
`;

function fail(problems: string[]): never {
  process.stderr.write(
    `heartline hub: invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}\nRun with --help to see every option.\n`,
  );
  process.exit(2);
}

const load = () =>
  loadConfig(HubConfigSchema, { envPrefix: ENV_PREFIX, defaultFile: "heartline.config.json" });
let loaded;
try {
  loaded = load();
} catch (error) {
  if (error instanceof ConfigError) fail(error.problems);
  throw error;
}
if (loaded.helpRequested) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const { config } = loaded;
const logger = createLogger({ level: config.log.level });
const hub = createHub(config, { logger });
// Never silent: a rejection nobody handled is logged and counted, and the hub keeps serving;
// an uncaught exception leaves the process in an unknown state, so it is logged, counted and
// the process exits for its supervisor to restart (peers reconnect and resume).
process.on("unhandledRejection", (reason) => {
  hub.metrics.processError("unhandled-rejection");
  logger.error({ err: reason }, "unhandled promise rejection");
});
process.on("uncaughtException", (error) => {
  hub.metrics.processError("uncaught-exception");
  logger.fatal({ err: error }, "uncaught exception; exiting");
  process.exit(1);
});
try {
  const url = await hub.listen();
  const dashboardUrl = `${url}/dashboard`;
  logger.info(
    {
      url,
      playerUrl: `${url}/`,
      dashboardUrl,
      heartbeat: heartbeatSettings(config),
      configFile: loaded.file,
    },
    `hub listening; player: ${url}/  dashboard: ${dashboardUrl}` +
      (config.admin.token === undefined ? " (off until admin.token is set)" : ""),
  );
} catch (error) {
  const code = (error as NodeJS.ErrnoException).code;
  logger.fatal(
    { err: error, host: config.host, port: config.port },
    code === "EADDRINUSE"
      ? `port ${config.port} is in use; stop the other process or pass --port`
      : "could not listen",
  );
  process.exit(1);
}

// Live config: the watched file or SIGHUP. Flags and env still win over the file.
const reloader = new ConfigReloader({
  load: () => {
    try {
      return load().config;
    } catch (error) {
      if (error instanceof ConfigError) hub.metrics.configReloaded("rejected");
      throw error;
    }
  },
  current: config,
  file: loaded.file,
  apply: (next) => {
    hub.reconfigure(next);
  },
  logger: logger.child({ component: "config" }),
});
reloader.start();

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down: ending every session (hub-shutdown)");
    reloader.stop();
    void hub.close().then(() => process.exit(0));
  });
}
