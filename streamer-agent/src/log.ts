/**
 * The agent's root logger: JSON lines on stdout when piped (tests and log shippers read them),
 * pino-pretty on a terminal for people. Components take a child: `logger.child({component})`.
 */
import { pino, type Logger } from "pino";
import { prettyFactory } from "pino-pretty";
import type { AgentOptions } from "./options.js";

export type { Logger } from "pino";

/** Where pretty lines go on a terminal: stdout, or above the status line. */
export interface TerminalOutput {
  writeAbove(text: string): void;
}

export function createLogger(
  level: AgentOptions["logLevel"],
  tty = process.stdout.isTTY,
  terminal: TerminalOutput = { writeAbove: (text) => process.stdout.write(text) },
): Logger {
  if (tty) {
    // Formatted in-process and written synchronously (no transport worker), so the last lines
    // before exit are not lost and each one lands above the status line.
    const prettify = prettyFactory({
      colorize: true,
      singleLine: true,
      translateTime: "HH:MM:ss.l",
      ignore: "pid,hostname,service",
    });
    return pino(
      { level, base: { service: "agent" } },
      {
        write: (line: string) => {
          terminal.writeAbove(prettify(line));
        },
      },
    );
  }
  return pino({ level, base: { service: "agent", pid: process.pid } });
}
