import pino, { type Logger } from "pino";

/**
 * The hub's root logger: JSON lines (one object per event) when stdout is not a terminal, so
 * log shippers and tests can parse them; colourised by pino-pretty on a terminal. Components
 * take a child logger (`logger.child({ component: "signaling" })`).
 */
export function createLogger(options: { level: string; pretty?: boolean }): Logger {
  const pretty = options.pretty ?? process.stdout.isTTY;
  return pino({
    level: options.level,
    base: { service: "hub" },
    ...(pretty
      ? {
          transport: {
            target: "pino-pretty",
            options: { translateTime: "HH:MM:ss.l", ignore: "pid,hostname" },
          },
        }
      : {}),
  });
}
