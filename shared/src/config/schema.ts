/**
 * The hub's configuration as one declarative table: every key with its type, default, allowed
 * values and help text. The environment variable (`HEARTLINE_HEARTBEAT_INTERVAL_MS`) and CLI flag
 * (`--heartbeat-interval-ms`) of a key are derived from its path, so they cannot drift apart.
 * Sources, later wins: defaults, the JSON file, the environment, CLI flags (see load.ts).
 */
import { z } from "zod";
import { IceServerSchema, type HeartbeatSettings } from "../protocol/messages.js";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

export const HubConfigSchema = z.strictObject({
  port: z
    .number()
    .int()
    .min(0)
    .max(65535)
    .default(8080)
    .meta({ description: "TCP port the hub listens on (0 picks a free port)" }),
  host: z
    .string()
    .min(1)
    .default("127.0.0.1")
    .meta({ description: "Address the hub binds to; 0.0.0.0 accepts other machines" }),
  heartbeat: z
    .strictObject({
      intervalMs: z
        .number()
        .int()
        .min(50)
        .max(60_000)
        .default(5000)
        .meta({ description: "How often streamers ping each session, in ms; sent to every peer" }),
      missedBeats: z.number().int().min(1).max(100).default(3).meta({
        description: "Beats an end may miss before its session is torn down (timeout = interval x beats)",
      }),
      resumeGraceMs: z.number().int().min(0).max(600_000).optional().meta({
        description:
          "How long a dropped socket may take to reconnect and resume its sessions (default: the heartbeat timeout)",
      }),
      enforce: z.boolean().default(true).meta({
        description: "Tear down sessions whose heartbeat lapses; false only measures and logs (debugging)",
      }),
      logPingPong: z
        .boolean()
        .default(false)
        .meta({ description: "Log every relayed ping and pong (heartbeat chatter; off by default)" }),
    })
    .prefault({}),
  iceServers: z.array(IceServerSchema).default([]).meta({
    description:
      "ICE servers (JSON array of RTCIceServer) sent to every peer; empty: no third party is contacted",
  }),
  log: z
    .strictObject({
      level: z.enum(LOG_LEVELS).default("info").meta({ description: "Log level" }),
    })
    .prefault({}),
  webClientDir: z.string().optional().meta({
    description: "Folder of the built player to serve at / (default: web-client/dist of this checkout)",
  }),
});

export type HubConfig = z.output<typeof HubConfigSchema>;

/** An end that is half a beat late has missed a beat. */
export const STALE_AFTER_BEATS = 1.5;

/** The heartbeat as peers see it: everything but the interval is derived from the config. */
export function heartbeatSettings(config: Pick<HubConfig, "heartbeat">): HeartbeatSettings {
  const { intervalMs, missedBeats, resumeGraceMs } = config.heartbeat;
  const timeoutMs = intervalMs * missedBeats;
  return {
    intervalMs,
    timeoutMs,
    staleAfterMs: Math.round(intervalMs * STALE_AFTER_BEATS),
    resumeGraceMs: resumeGraceMs ?? timeoutMs,
  };
}
