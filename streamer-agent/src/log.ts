/**
 * The agent's root logger: JSON lines on stdout when piped (tests and log shippers read them),
 * pino-pretty on a terminal for people. Components take a child: `logger.child({component})`.
 */
import { pino, type Logger } from "pino";
import pretty from "pino-pretty";
import type { AgentOptions } from "./options.js";

export type { Logger } from "pino";

export function createLogger(level: AgentOptions["logLevel"], tty = process.stdout.isTTY): Logger {
  if (tty) {
    // In-process and synchronous (not a transport worker), so the last lines before exit are not lost.
    return pino(
      { level, base: { service: "agent" } },
      pretty({
        colorize: true,
        sync: true,
        singleLine: true,
        translateTime: "HH:MM:ss.l",
        ignore: "pid,hostname,service",
      }),
    );
  }
  return pino({ level, base: { service: "agent", pid: process.pid } });
}
