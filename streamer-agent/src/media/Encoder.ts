/**
 * The one ffmpeg process of the agent. It encodes the source once and sends RTP to a
 * UDP socket the agent binds on 127.0.0.1; every packet is handed to `onPacket`, which fans it
 * out to all live sessions. Encoding once per viewer would not scale (VP8 alone costs a third
 * of a core at 640x360), so sessions never get their own encoder.
 *
 * If ffmpeg dies it is restarted with backoff; `stop()` ends it for good.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { existsSync } from "node:fs";
import type { Logger } from "pino";
import { Backoff, systemClock, type Clock, type TimerHandle } from "@heartline/shared/timing";
import { FONT_FILE, ffmpegArgs, type EncoderSettings } from "./ffmpegArgs.js";
import { RtpContinuity } from "./RtpContinuity.js";
import { describeSource, redactCredentials } from "./source.js";

export type { EncoderSettings } from "./ffmpegArgs.js";

/** The encoder cannot run at all; retrying will not help until someone fixes the machine. */
export class EncoderUnavailableError extends Error {
  override readonly name = "EncoderUnavailableError";
}

export interface EncoderOptions {
  settings: EncoderSettings;
  logger: Logger;
  /** Called with every RTP packet (never RTCP), numbered as one stream across ffmpeg restarts. */
  onPacket: (packet: Buffer) => void;
  /** Called once if ffmpeg cannot be started at all (not installed). */
  onFatal?: (error: EncoderUnavailableError) => void;
  /** The ffmpeg binary (default `ffmpeg` from PATH). */
  ffmpegPath?: string;
  clock?: Clock;
}

/** A run that lasted this long was healthy: the next failure starts the backoff small again. */
const HEALTHY_RUN_MS = 10_000;
/** Grace between SIGTERM and SIGKILL when stopping ffmpeg. */
const STOP_GRACE_MS = 2_000;
/** Lines of ffmpeg's stderr kept to explain an unexpected exit. */
const STDERR_LINES_KEPT = 10;

/**
 * RTCP packet types 192-223 (RFC 5761): ffmpeg's sender reports, which arrive on the RTP port
 * because we point `rtcpport` there. Each session's werift sender writes its own reports.
 */
function isRtcp(packet: Buffer): boolean {
  const payloadType = packet[1];
  return payloadType !== undefined && payloadType >= 192 && payloadType <= 223;
}

/**
 * `setpriv --pdeathsig` makes the kernel kill ffmpeg when the agent dies, even by SIGKILL, so
 * no orphan keeps encoding. It is part of util-linux (always present on Debian); without it we
 * fall back to running ffmpeg directly and rely on `stop()`.
 */
const SETPRIV = "/usr/bin/setpriv";

export class Encoder {
  private readonly settings: EncoderSettings;
  private readonly logger: Logger;
  private readonly onPacket: (packet: Buffer) => void;
  private readonly onFatal: ((error: EncoderUnavailableError) => void) | undefined;
  private readonly ffmpegPath: string;
  private readonly clock: Clock;
  private readonly backoff = new Backoff({ initialMs: 500, maxMs: 10_000, jitter: [0.5, 1] });
  private readonly continuity = new RtpContinuity();

  private socket: UdpSocket | undefined;
  private process: ChildProcess | undefined;
  private restartTimer: TimerHandle | undefined;
  private stopped = false;
  private runs = 0;
  private packetsThisRun = 0;
  private packetsTotal = 0;

  constructor(options: EncoderOptions) {
    this.settings = options.settings;
    this.logger = options.logger;
    this.onPacket = options.onPacket;
    this.onFatal = options.onFatal;
    this.ffmpegPath = options.ffmpegPath ?? "ffmpeg";
    this.clock = options.clock ?? systemClock;
  }

  /** RTP packets received since start, over all ffmpeg runs. */
  get packetCount(): number {
    return this.packetsTotal;
  }

  /** ffmpeg processes started so far (1 while the first one runs: a looped file never restarts it). */
  get runCount(): number {
    return this.runs;
  }

  /** The pid of the running ffmpeg, if one runs. */
  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** Binds the RTP socket and starts ffmpeg. Resolves once the socket listens. */
  async start(): Promise<void> {
    if (this.socket) throw new Error("Encoder.start() called twice; create a new Encoder instead");
    const { source } = this.settings;
    if (source.kind === "testpattern" && !existsSync(FONT_FILE)) {
      throw new EncoderUnavailableError(
        `font ${FONT_FILE} is missing; install it with: apt-get install -y fonts-dejavu-core`,
      );
    }
    if (source.kind === "file" && !existsSync(source.path)) {
      throw new EncoderUnavailableError(`media file ${source.path} does not exist; check --source`);
    }
    const socket = createSocket("udp4");
    this.socket = socket;
    socket.on("message", (packet) => {
      this.handlePacket(packet);
    });
    socket.on("error", (error) => {
      this.logger.error({ err: error }, "RTP socket error");
    });
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(0, "127.0.0.1", () => {
        socket.off("error", reject);
        resolve();
      });
    });
    this.spawnFfmpeg();
  }

  /** Stops ffmpeg and closes the socket. Idempotent; resolves once ffmpeg has exited. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.restartTimer !== undefined) this.clock.clearTimeout(this.restartTimer);
    const child = this.process;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) =>
        child.once("exit", () => {
          resolve();
        }),
      );
      child.kill("SIGTERM");
      const killTimer = this.clock.setTimeout(() => {
        child.kill("SIGKILL");
      }, STOP_GRACE_MS);
      await exited;
      this.clock.clearTimeout(killTimer);
    }
    this.socket?.close();
    this.logger.info({ packets: this.packetsTotal }, "encoder stopped");
  }

  private handlePacket(packet: Buffer): void {
    if (isRtcp(packet) || !this.continuity.rewrite(packet, this.clock.now())) return;
    this.packetsThisRun += 1;
    this.packetsTotal += 1;
    if (this.packetsThisRun === 1) {
      this.logger.info(
        { ffmpegPid: this.process?.pid, codec: this.settings.codec, run: this.runs },
        "encoder running",
      );
    }
    this.onPacket(packet);
  }

  private spawnFfmpeg(): void {
    if (this.stopped || !this.socket) return;
    const port = this.socket.address().port;
    const args = ffmpegArgs(this.settings, port);
    const [command, commandArgs] = existsSync(SETPRIV)
      ? [SETPRIV, ["--pdeathsig", "KILL", "--", this.ffmpegPath, ...args]]
      : [this.ffmpegPath, args];
    this.runs += 1;
    this.packetsThisRun = 0;
    this.continuity.startRun();
    const startedAt = this.clock.now();
    const stderrTail: string[] = [];

    const child = spawn(command, commandArgs, { stdio: ["ignore", "ignore", "pipe"] });
    this.process = child;
    this.logger.debug(
      { ffmpegPid: child.pid, command: redactCredentials([this.ffmpegPath, ...args].join(" ")) },
      "ffmpeg started",
    );

    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      for (const raw of chunk.split(/\r?\n/)) {
        if (raw.trim() === "") continue;
        // ffmpeg repeats the input URL in its errors, password included.
        const line = redactCredentials(raw);
        stderrTail.push(line);
        if (stderrTail.length > STDERR_LINES_KEPT) stderrTail.shift();
        this.logger.debug({ line }, "ffmpeg");
      }
    });

    child.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") {
        this.failMissingFfmpeg();
        return;
      }
      this.logger.error({ err: error }, "ffmpeg could not be started");
    });

    child.on("exit", (code, signal) => {
      if (this.process === child) this.process = undefined;
      if (this.stopped) return;
      // setpriv exits 127 when it cannot exec ffmpeg: the same as a missing binary.
      if (code === 127 && command === SETPRIV) {
        this.failMissingFfmpeg();
        return;
      }
      if (this.clock.now() - startedAt > HEALTHY_RUN_MS) this.backoff.reset();
      const delayMs = this.backoff.next();
      this.logger.error(
        // The stderr tail says why (a device that is busy or missing, a file ffmpeg cannot read).
        {
          code,
          signal,
          source: describeSource(this.settings.source),
          stderr: stderrTail,
          restartInMs: delayMs,
        },
        "ffmpeg exited unexpectedly; restarting",
      );
      this.restartTimer = this.clock.setTimeout(() => {
        this.restartTimer = undefined;
        this.spawnFfmpeg();
      }, delayMs);
    });
  }

  private failMissingFfmpeg(): void {
    this.stopped = true;
    this.socket?.close();
    const error = new EncoderUnavailableError(
      `cannot run '${this.ffmpegPath}': not found. Install it with: apt-get install -y ffmpeg`,
    );
    this.logger.fatal({ err: error }, "ffmpeg not found");
    this.onFatal?.(error);
  }
}
