/**
 * The hub's configuration as one declarative table: every key with its type, default, allowed
 * values and help text. The environment variable (`HEARTLINE_HEARTBEAT_INTERVAL_MS`) and CLI flag
 * (`--heartbeat-interval-ms`) of a key are derived from its path, so they cannot drift apart.
 * Sources, later wins: defaults, the JSON file, the environment, CLI flags (see load.ts).
 */
import { z } from "zod";
import { IceServerSchema, StreamerIdSchema, type HeartbeatSettings } from "../protocol/messages.js";

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
      detector: z.enum(["adaptive", "fixed"]).default("adaptive").meta({
        description:
          "adaptive: probe an end that misses its beat and end it sooner when it cannot answer (never later than the timeout); fixed: only the timeout",
      }),
      pauseToleranceMs: z.number().int().min(0).max(60_000).default(3000).meta({
        description:
          "adaptive: the longest stall of a healthy peer (GC, swap, a busy event loop) that never ends its sessions early",
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
  maxPlayers: z.number().int().min(1).max(100_000).default(50).meta({
    description: "Players one streamer may serve at once; one more is refused with the error streamer-full",
  }),
  auth: z
    .strictObject({
      open: z.boolean().default(false).meta({
        description:
          "Let any streamer and player in without a key or token: for demos and local development only",
      }),
      streamerKeys: z
        .array(
          z.strictObject({
            key: z.string().min(16).max(256),
            streamerIds: z.array(StreamerIdSchema).min(1).optional(),
          }),
        )
        .default([])
        .meta({
          description:
            "Keys streamers present as auth.key: JSON array of {key, streamerIds?}; a key bound to ids opens only those",
        }),
      playerTokenSecret: z.string().min(32).optional().meta({
        description: "Secret (HS256) that signs player tokens; POST /api/player-token issues them",
      }),
      playerTokenTtlSec: z
        .number()
        .int()
        .min(10)
        .max(7 * 86_400)
        .default(3600)
        .meta({ description: "Lifetime of an issued player token, in seconds" }),
    })
    .prefault({}),
  admin: z
    .strictObject({
      token: z.string().min(16).optional().meta({
        description:
          "Bearer token for the dashboard, the admin API and issuing player tokens; unset: all of them are off",
      }),
    })
    .prefault({}),
  trustProxy: z
    .union([z.boolean(), z.number().int().min(0).max(32), z.array(z.string().min(1)).min(1)])
    .default(false)
    .meta({
      description:
        "Behind reverse proxies: true (one), a hop count, or a JSON list of their addresses; the client is the right-most X-Forwarded-For hop that is not one",
    }),
  allowedOrigins: z.array(z.string().min(1)).default([]).meta({
    description:
      "Browser origins allowed to connect, exact match; list the hub's own if reached by a name (only an IP or localhost Host is taken as its own)",
  }),
  turn: z
    .strictObject({
      urls: z.array(z.string().min(1)).default([]).meta({ description: "TURN server URLs sent to peers" }),
      secret: z.string().min(16).optional().meta({
        description: "Shared secret of the TURN server's REST API: peers get short-lived HMAC credentials",
      }),
      ttlSec: z
        .number()
        .int()
        .min(60)
        .max(86_400)
        .default(3600)
        .meta({ description: "Lifetime of TURN credentials, in seconds" }),
    })
    .prefault({}),
  limits: z
    .strictObject({
      maxMessageBytes: z
        .number()
        .int()
        .min(1024)
        .max(1_048_576)
        .default(65_536)
        .meta({ description: "Largest message a peer may send; larger frames close its socket" }),
      messagesPerSecond: z
        .number()
        .positive()
        .max(100_000)
        .default(50)
        .meta({ description: "Sustained messages per second per socket (token bucket refill rate)" }),
      messageBurst: z
        .number()
        .int()
        .min(1)
        .max(100_000)
        .default(200)
        .meta({ description: "Messages a socket may send at once (bucket size; absorbs ICE bursts)" }),
      maxViolations: z.number().int().min(1).max(10_000).default(20).meta({
        description: "Rate-limited or invalid messages a socket may send before it is disconnected",
      }),
      connectionsPerIp: z
        .number()
        .int()
        .min(1)
        .max(100_000)
        .default(100)
        .meta({ description: "Open sockets one IP address may hold" }),
      subscriptionsPerPlayer: z
        .number()
        .int()
        .min(1)
        .max(1000)
        .default(4)
        .meta({ description: "Sessions one player may hold at once" }),
      sessionsPerToken: z.number().int().min(1).max(100_000).default(8).meta({
        description:
          "Sessions one player token (one link) may hold at once over all its sockets; one more is refused with token-sessions-full",
      }),
      maxBufferedBytes: z.number().int().min(16_384).max(1_073_741_824).default(1_048_576).meta({
        description: "Bytes queued for one slow socket before it is disconnected as a stalled reader",
      }),
    })
    .prefault({}),
  cluster: z
    .strictObject({
      redisUrl: z.string().min(1).optional().meta({
        description:
          "Redis URL (redis://host:port) shared by several hubs behind one load balancer; unset: a single hub, no Redis",
      }),
      keyPrefix: z
        .string()
        .regex(/^[A-Za-z0-9_.-]{1,64}$/)
        .default("heartline")
        .meta({
          description: "Prefix of every Redis key and channel (hubs sharing one prefix form one cluster)",
        }),
      nodeId: z
        .string()
        .regex(/^[A-Za-z0-9_.-]{1,64}$/)
        .optional()
        .meta({
          description:
            "This hub's name in the cluster, in logs and the API (default: host name and a random suffix)",
        }),
      requestTimeoutMs: z.number().int().min(100).max(60_000).default(3000).meta({
        description:
          "How long a cross-node request (opening a session on another hub) may take before it fails",
      }),
      secret: z.string().min(32).max(1024).optional().meta({
        description:
          "Shared secret (at least 32 characters, the same on every hub) that signs every message between hubs; required with redisUrl",
      }),
    })
    .superRefine((cluster, context) => {
      if (cluster.redisUrl !== undefined && cluster.secret === undefined) {
        context.addIssue({
          code: "custom",
          path: ["secret"],
          message:
            "required when cluster.redisUrl is set: give every hub the same secret (e.g. from `openssl rand -hex 32`) so no one else on Redis can speak for a hub (docs/cluster.md)",
        });
      }
    })
    .prefault({}),
  pixelStreaming: z
    .strictObject({
      enabled: z.boolean().default(false).meta({
        description:
          "Speak Epic's Pixel Streaming signalling on the hub's port: Unreal and Epic's frontend work unchanged (docs/pixel-streaming.md)",
      }),
      streamerPath: z
        .string()
        .regex(/^\/[A-Za-z0-9/_.-]*$/)
        .default("/ps/streamer")
        .meta({ description: "WebSocket path of Pixel Streaming streamers; every other path is a player" }),
      streamerPort: z.number().int().min(0).max(65535).optional().meta({
        description:
          "Extra port where every WebSocket path is a Pixel Streaming streamer (Unreal's default is 8888); unset: none",
      }),
      playerPing: z.enum(["json", "ws", "off"]).default("json").meta({
        description:
          "How the hub proves a Pixel Streaming player alive: JSON ping (answered by the page's code), WebSocket ping (by the browser), or off",
      }),
      streamerGraceMs: z.number().int().min(0).max(600_000).default(30_000).meta({
        description:
          "How long players are held when their Pixel Streaming streamer drops; the same id back in time resumes them",
      }),
      pageDir: z.string().optional().meta({
        description:
          "Folder of the built Pixel Streaming player to serve at /ps/ (default: ps-player/dist of this checkout)",
      }),
      upgradesPerSecond: z.number().positive().max(100_000).default(5).meta({
        description:
          "Pixel Streaming WebSocket upgrades one address may make per second, after upgradeBurst (Unreal retries every 2 s); over it: 429",
      }),
      upgradeBurst: z.number().int().min(1).max(100_000).default(20).meta({
        description: "Pixel Streaming WebSocket upgrades one address may make at once",
      }),
    })
    .prefault({}),
  tls: z
    .strictObject({
      cert: z.string().optional().meta({ description: "PEM certificate file: serve HTTPS and WSS" }),
      key: z.string().optional().meta({ description: "PEM private key file for tls.cert" }),
    })
    .prefault({}),
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
