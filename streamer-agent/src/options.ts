/**
 * The agent's options as one declarative table. Each leaf gets a flag derived from its key
 * (`loopbackOnly` -> `--loopback-only`) and an env var (`HEARTLINE_AGENT_LOOPBACK_ONLY`);
 * later sources win: defaults, `--config` file, environment, flags (see shared/src/config/load.ts).
 */
import { z } from "zod";
import { StreamerIdSchema } from "@heartline/shared";
import { LOG_LEVELS, configHelp, loadConfig, type LoadConfigOptions } from "@heartline/shared/config";

export const AGENT_ENV_PREFIX = "HEARTLINE_AGENT";

export const CODECS = ["vp8", "h264"] as const;
export type VideoCodec = (typeof CODECS)[number];

export const AgentOptionsSchema = z.strictObject({
  hub: z
    .url({ protocol: /^https?$/, error: "must be an http:// or https:// URL, e.g. http://127.0.0.1:8080" })
    .default("http://127.0.0.1:8080")
    .meta({ description: "Base URL of the heartline hub" }),
  id: StreamerIdSchema.default("demo").meta({
    description: "Streamer id players subscribe to (appears in the player URL ?streamer=<id>)",
  }),
  codec: z.enum(CODECS).default("vp8").meta({ description: "Video codec: vp8 (libvpx) or h264 (libx264)" }),
  width: z.number().int().min(16).max(3840).default(640).meta({ description: "Video width in pixels" }),
  height: z.number().int().min(16).max(2160).default(360).meta({ description: "Video height in pixels" }),
  fps: z.number().int().min(1).max(60).default(30).meta({ description: "Frames per second" }),
  bitrateKbps: z
    .number()
    .int()
    .min(50)
    .max(20_000)
    .default(1000)
    .meta({ description: "Target video bitrate in kbit/s" }),
  keyframeIntervalFrames: z.number().int().min(1).max(600).default(30).meta({
    description:
      "Frames between keyframes; a player joining mid-stream waits up to this long for its first picture",
  }),
  loopbackOnly: z
    .boolean()
    .default(false)
    .meta({ description: "Offer and accept only 127.0.0.1 ICE candidates (tests on one machine)" }),
  logLevel: z.enum(LOG_LEVELS).default("info").meta({ description: "Log level" }),
  logPingPong: z
    .boolean()
    .default(false)
    .meta({ description: "Log every ping sent and pong received (heartbeat chatter; off by default)" }),
});

export type AgentOptions = z.output<typeof AgentOptionsSchema>;

export interface LoadedAgentOptions {
  options: AgentOptions;
  helpRequested: boolean;
}

/** Throws a ConfigError naming the bad key, its source and what is allowed. */
export function loadAgentOptions(sources: Omit<LoadConfigOptions, "envPrefix"> = {}): LoadedAgentOptions {
  const loaded = loadConfig(AgentOptionsSchema, { ...sources, envPrefix: AGENT_ENV_PREFIX });
  return { options: loaded.config, helpRequested: loaded.helpRequested };
}

export function agentHelp(): string {
  return [
    "Usage: heartline-agent [--hub <url>] [--id <streamer id>] [options]",
    "",
    "Registers with a heartline hub and streams a live test pattern over WebRTC to every player",
    "that subscribes, pinging each session on the hub's heartbeat interval.",
    "",
    "Options:",
    "  --config <file>\n      JSON file with any of the options below\n      env: HEARTLINE_AGENT_CONFIG",
    configHelp(AgentOptionsSchema, AGENT_ENV_PREFIX),
    "  -h, --help\n      Print this help",
    "",
  ].join("\n");
}

/** The page a person opens to watch this agent. */
export function playerUrl(options: Pick<AgentOptions, "hub" | "id">): string {
  const url = new URL(options.hub);
  url.searchParams.set("streamer", options.id);
  return url.toString();
}
