/**
 * One line at the bottom of a terminal, redrawn every second: the hub link, the viewers with
 * their signaling and media RTTs, and the encoder's send rate. Log lines are printed above it
 * (`writeAbove`), so the two never tear each other apart. Only used when stdout is a TTY; piped
 * output stays pure JSON lines.
 */
import type { AgentStatus } from "../Agent.js";
import { systemClock, type Clock, type TimerHandle } from "@heartline/shared/timing";

/** Erase the current line and return to its start. */
const CLEAR_LINE = "\r\u001b[2K";

function ms(value: number | undefined): string {
  return value === undefined ? "-" : `${Math.round(value)}ms`;
}

function hubPart(status: AgentStatus): string {
  if (status.retry) {
    const why = status.retry.code === "disconnected" ? "" : ` (${status.retry.code})`;
    return `hub reconnecting to ${status.hubUrl} in ${Math.ceil(status.retry.inMs / 1000)} s${why}`;
  }
  switch (status.hub) {
    case "connected":
      return "hub connected";
    case "resuming":
      return "hub resuming sessions";
    case "connecting":
    case "disconnected":
      return `hub connecting to ${status.hubUrl}`;
  }
}

/** The status as one line of text (without colour, so it can be tested and truncated). */
export function formatStatus(status: AgentStatus): string {
  const parts = [
    hubPart(status),
    `${status.sessions.length} viewer${status.sessions.length === 1 ? "" : "s"}`,
  ];
  for (const session of status.sessions) {
    parts.push(`${session.sessionId.slice(0, 8)} rtt ${ms(session.rttMs)} media ${ms(session.mediaRttMs)}`);
  }
  parts.push(
    status.fps === undefined || status.bitrateKbps === undefined
      ? "encoder idle"
      : `${status.fps.toFixed(1)} fps ${status.bitrateKbps} kbit/s`,
  );
  return parts.join(" | ");
}

export interface StatusLineOptions {
  out: Pick<NodeJS.WriteStream, "write" | "columns">;
  read: () => AgentStatus | undefined;
  clock?: Clock;
  /** Redraw period, in ms (default 1000). */
  intervalMs?: number;
}

export class StatusLine {
  private readonly options: StatusLineOptions;
  private readonly clock: Clock;
  private timer: TimerHandle | undefined;
  private current = "";

  constructor(options: StatusLineOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.redraw();
    this.timer = this.clock.setInterval(() => {
      this.redraw();
    }, this.options.intervalMs ?? 1000);
  }

  /** Removes the line for good (the last log lines of a stopping agent stay clean). */
  stop(): void {
    if (this.timer !== undefined) this.clock.clearInterval(this.timer);
    this.timer = undefined;
    if (this.current !== "") this.options.out.write(CLEAR_LINE);
    this.current = "";
  }

  /** Prints `text` (complete lines) above the status line. */
  writeAbove(text: string): void {
    if (this.current === "") {
      this.options.out.write(text);
      return;
    }
    this.options.out.write(CLEAR_LINE + text + this.current);
  }

  private redraw(): void {
    const status = this.options.read();
    if (!status) return;
    const width = this.options.out.columns || 120;
    const line = formatStatus(status);
    this.current = line.length >= width ? `${line.slice(0, width - 2)}…` : line;
    this.options.out.write(CLEAR_LINE + this.current);
  }
}
