/**
 * The agent's options as one declarative table. Each leaf gets a flag derived from its key
 * (`loopbackOnly` -> `--loopback-only`) and an env var (`HEARTLINE_AGENT_LOOPBACK_ONLY`);
 * later sources win: defaults, `--config` file, environment, flags (see shared/src/config/load.ts).
 */
import { z } from "zod";
import { StreamerIdSchema } from "@heartline/shared";
import {
  ConfigError,
  LOG_LEVELS,
  configKeys,
  loadConfig,
  type LoadConfigOptions,
} from "@heartline/shared/config";
import { FFMPEG_PREFIX, SourceError, TEST_PATTERN, parseSource } from "./media/source.js";

export const AGENT_ENV_PREFIX = "HEARTLINE_AGENT";

export const CODECS = ["vp8", "h264"] as const;
export type VideoCodec = (typeof CODECS)[number];

/** Which signalling the agent speaks: heartline's own (socket.io), or Epic's Pixel Streaming as a streamer. */
export const PROTOCOLS = ["heartline", "pixelstreaming"] as const;
export type AgentProtocol = (typeof PROTOCOLS)[number];

/** Where a heartline hub takes Pixel Streaming streamers (an http(s) `--hub` is mapped onto it). */
export const PS_STREAMER_PATH = "/ps/streamer";

/** `--size` bounds: what libvpx and libx264 accept here, and even, as 4:2:0 video requires. */
const MAX_WIDTH = 3840;
const MAX_HEIGHT = 2160;
const MIN_SIDE = 16;

/** `640x360` -> `{width: 640, height: 360}`; undefined if it is not `<width>x<height>`. */
export function parseSize(size: string): { width: number; height: number } | undefined {
  const match = /^(\d{1,5})x(\d{1,5})$/.exec(size);
  if (!match) return undefined;
  return { width: Number(match[1]), height: Number(match[2]) };
}

/** The size of validated options (the schema has checked it). */
export function videoSize(size: string): { width: number; height: number } {
  const parsed = parseSize(size);
  if (!parsed) throw new Error(`invalid size ${size}; options must come from loadAgentOptions()`);
  return parsed;
}

export const AgentOptionsSchema = z
  .strictObject({
    protocol: z.enum(PROTOCOLS).default("heartline").meta({
      description:
        "Signalling to speak: heartline (the hub's own), or pixelstreaming (a streamer of Epic's Pixel Streaming protocol, like Unreal: for heartline's /ps/streamer or Epic's Wilbur)",
    }),
    hub: z
      .url({
        protocol: /^(https?|wss?)$/,
        error:
          "must be an http:// or https:// URL, e.g. http://127.0.0.1:8080 (with --protocol pixelstreaming also ws:// or wss://)",
      })
      .default("http://127.0.0.1:8080")
      .meta({
        description: `Base URL of the heartline hub; with --protocol pixelstreaming the streamer WebSocket URL (ws://host:port${PS_STREAMER_PATH}, or Wilbur's ws://host:8888; an http(s) hub URL means its ${PS_STREAMER_PATH})`,
      }),
    id: StreamerIdSchema.default("demo").meta({
      description: "Streamer id players subscribe to (appears in the player URL ?streamer=<id>)",
    }),
    key: z.string().min(1).max(256).optional().meta({
      description:
        "Streamer key, sent to the hub as auth.key (pixelstreaming: as the header Authorization: Bearer <key>): one of the hub's auth.streamerKeys (not needed if the hub runs with --auth-open true). Never logged; prefer the env var, as flags show in ps",
    }),
    source: z
      .string()
      .min(1)
      .superRefine((value, context) => {
        try {
          parseSource(value);
        } catch (error) {
          if (!(error instanceof SourceError)) throw error;
          context.addIssue({ code: "custom", message: error.message });
        }
      })
      .default(TEST_PATTERN)
      .meta({
        description: `What to stream: ${TEST_PATTERN}, a media file (looped), or ${FFMPEG_PREFIX}<ffmpeg input options> (see Sources below)`,
      }),
    size: z
      .string()
      .superRefine((value, context) => {
        const size = parseSize(value);
        const problem = !size
          ? "must be <width>x<height>, e.g. 1280x720"
          : size.width < MIN_SIDE ||
              size.height < MIN_SIDE ||
              size.width > MAX_WIDTH ||
              size.height > MAX_HEIGHT
            ? `must be between ${MIN_SIDE}x${MIN_SIDE} and ${MAX_WIDTH}x${MAX_HEIGHT}`
            : size.width % 2 !== 0 || size.height % 2 !== 0
              ? "width and height must be even (4:2:0 video)"
              : undefined;
        if (problem) context.addIssue({ code: "custom", message: problem });
      })
      .default("640x360")
      .meta({
        description: "Video size in pixels, <width>x<height>; other sizes of the source are letterboxed",
      }),
    fps: z
      .number()
      .int()
      .min(1)
      .max(60)
      .default(30)
      .meta({ description: "Frames per second sent (the source is re-timed to it)" }),
    codec: z.enum(CODECS).default("vp8").meta({ description: "Video codec: vp8 (libvpx) or h264 (libx264)" }),
    bitrate: z
      .number({ error: "must be a whole number of kbit/s, e.g. 1500 for 1.5 Mbit/s" })
      .int({ error: "must be a whole number of kbit/s, e.g. 1500 for 1.5 Mbit/s" })
      .min(50, { error: "must be at least 50 (kbit/s)" })
      .max(20_000, { error: "must be at most 20000 (kbit/s, i.e. 20 Mbit/s)" })
      .default(1000)
      .meta({ description: "Target video bitrate in kbit/s (1500 = 1.5 Mbit/s)" }),
    keyframeIntervalFrames: z.number().int().min(1).max(600).default(30).meta({
      description:
        "Frames between keyframes; a player joining mid-stream waits up to this long for its first picture",
    }),
    loopbackOnly: z
      .boolean()
      .default(false)
      .meta({ description: "Offer and accept only 127.0.0.1 ICE candidates (tests on one machine)" }),
    logLevel: z
      .enum(LOG_LEVELS)
      .default("info")
      .meta({ description: `Log level: ${LOG_LEVELS.join(", ")}` }),
    logPingPong: z
      .boolean()
      .default(false)
      .meta({ description: "Log every ping sent and pong received (heartbeat chatter)" }),
    psPingIntervalMs: z.number().int().min(0).max(3_600_000).default(30_000).meta({
      description:
        "pixelstreaming: how often to send the JSON ping {time: unix seconds} Unreal sends, in ms; 0 sends none",
    }),
    psReconnectMs: z.number().int().min(100).max(600_000).default(2_000).meta({
      description:
        "pixelstreaming: wait this long after the signalling socket closed or failed before reconnecting, in ms (Unreal: 2 s, forever)",
    }),
  })
  .superRefine((options, context) => {
    const scheme = new URL(options.hub).protocol;
    if (options.protocol === "heartline" && (scheme === "ws:" || scheme === "wss:")) {
      context.addIssue({
        code: "custom",
        path: ["hub"],
        message: `must be an http:// or https:// URL for --protocol heartline; ${scheme}// is for --protocol pixelstreaming`,
      });
    }
  });

export type AgentOptions = z.output<typeof AgentOptionsSchema>;

export interface LoadedAgentOptions {
  options: AgentOptions;
  helpRequested: boolean;
}

/**
 * The streamer key is a secret: a problem with it names where it came from but never shows it.
 * The loader prints `key = "<value>" (from …): why`; everything before the source goes.
 */
function redactKey(problem: string): string {
  if (!problem.startsWith("key ")) return problem;
  const from = problem.lastIndexOf(" (from ");
  return `key = <hidden>${from === -1 ? problem.slice(problem.indexOf(":")) : problem.slice(from)}`;
}

/** Throws a ConfigError naming the bad key, its source and what is allowed. */
export function loadAgentOptions(sources: Omit<LoadConfigOptions, "envPrefix"> = {}): LoadedAgentOptions {
  try {
    const loaded = loadConfig(AgentOptionsSchema, { ...sources, envPrefix: AGENT_ENV_PREFIX });
    return { options: loaded.config, helpRequested: loaded.helpRequested };
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(error.problems.map(redactKey));
    throw error;
  }
}

/** Wraps `text` to lines of at most `width` characters, each indented by `indent`. */
function wrap(text: string, indent: string, width = 96): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") lines.push(indent + line);
  return lines.join("\n");
}

/** `--help`: every option with its flag, env var and default (README.md lists the same). */
export function agentHelp(): string {
  const option = (flag: string, description: string, env: string): string =>
    [`  ${flag}`, wrap(description, "      "), `      env: ${env}`].join("\n");
  const options = configKeys(AgentOptionsSchema, AGENT_ENV_PREFIX).map((key) => {
    const shown = key.defaultValue === undefined ? "none" : JSON.stringify(key.defaultValue);
    return option(`--${key.flag} <${key.kind}>`, `${key.description} (default: ${shown})`, key.env);
  });
  return [
    "Usage: heartline-agent [--hub <url>] [--id <streamer id>] [--key <key>] [--source <source>] [options]",
    "",
    wrap(
      "Registers with a heartline hub and streams live video over WebRTC to every player that subscribes (the test pattern, a looped media file, or any ffmpeg input such as a camera or a screen), pinging each session on the hub's heartbeat interval. With --protocol pixelstreaming it is a Pixel Streaming streamer instead (like Unreal), for heartline's /ps/streamer or Epic's Wilbur.",
      "",
    ),
    "",
    "Option sources, later wins: defaults, --config file, HEARTLINE_AGENT_* environment, flags.",
    "",
    "Options:",
    option(
      "--config <file>",
      "JSON file with any of the options below (default: none)",
      `${AGENT_ENV_PREFIX}_CONFIG`,
    ),
    ...options,
    "  -h, --help\n      Print this help",
    "",
    "Sources (--source):",
    `  ${TEST_PATTERN}`,
    wrap("ffmpeg's testsrc2 pattern with the id, a frame counter and the wall clock burnt in.", "      "),
    "  <path>",
    wrap(
      "A media file, played at its own pace and looped forever (ffmpeg -stream_loop -1 -re -i <path>). A relative path is taken from the working directory; write ./ffmpeg:x for a file whose name starts with ffmpeg:.",
      "      ",
    ),
    `  ${FFMPEG_PREFIX}<ffmpeg input options>`,
    wrap(
      `Any ffmpeg input: the options are passed to ffmpeg before its output options and must include -i <input>. They are split like a shell would ('...' and "..." quote, \\ escapes) but no shell runs and nothing is expanded. E.g. "${FFMPEG_PREFIX}-f v4l2 -framerate 30 -i /dev/video0" (a camera), "${FFMPEG_PREFIX}-f x11grab -framerate 30 -i :0.0" (an X screen), "${FFMPEG_PREFIX}-rtsp_transport tcp -i rtsp://cam.local/stream" (a network camera). Add -re when the input is a file, which would otherwise be read as fast as ffmpeg can.`,
      "      ",
    ),
    wrap(
      "Every source is scaled to --size (letterboxed to keep its aspect ratio) and re-timed to --fps, so --bitrate and --keyframe-interval-frames hold. Only the video of the first input is sent.",
      "  ",
    ),
    "",
    "Examples:",
    '  heartline-agent --hub http://127.0.0.1:8080 --id cam1 --key "$STREAMER_KEY"',
    "  heartline-agent --id clip --source ./intro.mp4 --size 1280x720 --fps 30 --bitrate 2500",
    '  heartline-agent --id cam --source "ffmpeg:-f v4l2 -framerate 30 -i /dev/video0" --codec h264',
    "  heartline-agent --protocol pixelstreaming --hub ws://127.0.0.1:8080/ps/streamer --id DefaultStreamer",
    "",
  ].join("\n");
}

/**
 * The Pixel Streaming signalling URL: a ws(s):// hub as given (query included, so `?key=`
 * works); an http(s):// hub means its streamer endpoint, `ws(s)://host:port/ps/streamer`.
 */
export function psStreamerUrl(hub: string): string {
  const url = new URL(hub);
  if (url.protocol === "ws:" || url.protocol === "wss:") return url.toString();
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  if (url.pathname === "/") url.pathname = PS_STREAMER_PATH;
  return url.toString();
}

/** The page a person opens to watch this agent. */
export function playerUrl(options: Pick<AgentOptions, "hub" | "id">): string {
  const url = new URL(options.hub);
  url.searchParams.set("streamer", options.id);
  return url.toString();
}
