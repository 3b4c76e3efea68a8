/**
 * Every application message of the heartline protocol: one JSON object with a string `type`,
 * sent as the socket.io event `"message"`. The schemas here are the single source of truth;
 * TypeScript types are inferred from them and docs/protocol.md describes them for people.
 *
 * Unknown fields are stripped (a newer peer may send more); missing or mistyped fields and
 * unknown `type`s are refused.
 */
import { z } from "zod";
import { SessionCloseReasonSchema } from "./reasons.js";
import { ErrorCodeSchema } from "./errors.js";

/** The socket.io event that carries every application message. */
export const MESSAGE_EVENT = "message";

/** Streamer ids are chosen by operators and appear in URLs (`?streamer=`). */
export const StreamerIdSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
    "must be 1-64 characters of letters, digits, '.', '_' or '-', starting with a letter or digit",
  );

/** Session ids are issued by the hub; a peer only ever echoes them. */
export const SessionIdSchema = z.string().min(1).max(64);

/** SDP of a real offer is 2-20 KB; the cap leaves room for many m-lines. */
export const SdpSchema = z.string().min(1).max(60_000);

/** A timestamp on the sender's own monotonic clock, in milliseconds. Never compared across machines. */
export const TimeSchema = z.number().nonnegative();

/** `RTCIceCandidateInit` as browsers serialise it. */
export const IceCandidateInitSchema = z.object({
  candidate: z.string().max(2048),
  sdpMid: z.string().max(64).nullable().optional(),
  sdpMLineIndex: z.number().int().min(0).max(1024).nullable().optional(),
  usernameFragment: z.string().max(256).nullable().optional(),
});

/** `RTCIceServer` as browsers and werift accept it. */
export const IceServerSchema = z.object({
  urls: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  username: z.string().optional(),
  credential: z.string().optional(),
});

export const HeartbeatSettingsSchema = z.object({
  /** How often the streamer pings each session. */
  intervalMs: z.number().int().positive(),
  /** Silence longer than this ends the session (`intervalMs * missedBeats`). */
  timeoutMs: z.number().int().positive(),
  /** Silence longer than this marks an end stale (a missed beat; 1.5 x interval). */
  staleAfterMs: z.number().int().positive(),
  /** How long a dropped socket may take to come back and resume its sessions. */
  resumeGraceMs: z.number().int().nonnegative(),
});

/** Whether video reaches the player: frames decoded between two of its reports, or none. */
export const MediaStateSchema = z.enum(["flowing", "stalled"]);
export type MediaState = z.infer<typeof MediaStateSchema>;

/** Which end of a session. */
export const SessionEndSchema = z.enum(["streamer", "player"]);

/** A streamer's send-side figures, carried by `ping`. */
export const SendStatsSchema = z.object({
  fps: z.number().nonnegative(),
  bitrateKbps: z.number().nonnegative(),
});

/** A player's receive-side figures, carried by `pong`. */
export const ReceiveStatsSchema = z.object({
  framesDecoded: z.number().int().nonnegative(),
  fps: z.number().nonnegative(),
  jitterMs: z.number().nonnegative(),
  /** Cumulative; may be negative per RTCP when duplicates arrive. */
  packetsLost: z.number().int(),
});

/** A round-trip time in milliseconds. */
const RttSchema = z.number().nonnegative();

// ---- hub -> peer ---------------------------------------------------------------------------

export const ConfigMessageSchema = z.object({
  type: z.literal("config"),
  protocolVersion: z.number().int().positive(),
  /** The identity the hub gave this socket; informational, never trusted back. */
  peerId: z.string(),
  heartbeat: HeartbeatSettingsSchema,
  iceServers: z.array(IceServerSchema),
  /**
   * Secret that lets this peer resume its identity and sessions after its socket drops: pass it
   * as `auth.resumeToken` when reconnecting. Sent again (unchanged) on a live config change.
   */
  resumeToken: z.string().min(16).max(128),
});

export const ResumedMessageSchema = z.object({
  type: z.literal("resumed"),
  /** The sessions that survived the outage; any other session this peer had is closed. */
  sessionIds: z.array(SessionIdSchema).max(10_000),
});

export const SessionStateMessageSchema = z.object({
  type: z.literal("sessionState"),
  sessionId: SessionIdSchema,
  state: z.enum(["live", "stale"]),
  /** With `stale`: the end that missed a beat (or whose socket is away). */
  late: SessionEndSchema.optional(),
  /**
   * With `stale`: true when the late end's socket dropped (it may still resume within
   * `resumeGraceMs`) rather than it going silent on an open socket. Absent: not known to be away.
   */
  away: z.literal(true).optional(),
  /**
   * Whether video reaches the player, as its pongs report it: `flowing` (frames decoded since
   * the previous report) or `stalled` (none). Absent until known. Sent again whenever it changes,
   * so "signaling live, video dead" is visible to both ends.
   */
  media: MediaStateSchema.optional(),
});

export const StreamerListMessageSchema = z.object({
  type: z.literal("streamerList"),
  streamers: z.array(
    z.object({
      streamerId: StreamerIdSchema,
      /** Players currently in a session with this streamer. */
      players: z.number().int().nonnegative(),
    }),
  ),
});

export const SessionStartedMessageSchema = z.object({
  type: z.literal("sessionStarted"),
  sessionId: SessionIdSchema,
  streamerId: StreamerIdSchema,
});

export const PlayerJoinedMessageSchema = z.object({
  type: z.literal("playerJoined"),
  sessionId: SessionIdSchema,
});

export const SessionClosedMessageSchema = z.object({
  type: z.literal("sessionClosed"),
  sessionId: SessionIdSchema,
  reason: SessionCloseReasonSchema,
});

export const ErrorMessageSchema = z.object({
  type: z.literal("error"),
  code: ErrorCodeSchema,
  message: z.string(),
  /** The session the refused message named, when it named one. */
  sessionId: SessionIdSchema.optional(),
});

/**
 * "Answer me": sent when an end that declared the `probe` feature missed its beat. The peer
 * answers `probeAck` with the same `probeId` from its message handler (never from a timer), so
 * a hung process or a frozen tab cannot answer while a slow link still does, late.
 */
export const ProbeMessageSchema = z.object({
  type: z.literal("probe"),
  probeId: z.string().min(1).max(64),
});

/**
 * "Does media from the other end of this session still arrive?": sent to an end that declared
 * the `mediaCheck` feature when the other end is silent on signaling or its socket dropped. The
 * peer answers `mediaReport` with the same `checkId` within `heartbeat.intervalMs`.
 */
export const MediaCheckMessageSchema = z.object({
  type: z.literal("mediaCheck"),
  sessionId: SessionIdSchema,
  checkId: z.string().min(1).max(64),
});

// ---- peer -> hub (and relayed) ----------------------------------------------------------------

export const ListStreamersMessageSchema = z.object({ type: z.literal("listStreamers") });

export const SubscribeMessageSchema = z.object({
  type: z.literal("subscribe"),
  streamerId: StreamerIdSchema,
});

export const UnsubscribeMessageSchema = z.object({
  type: z.literal("unsubscribe"),
  sessionId: SessionIdSchema,
});

export const OfferMessageSchema = z.object({
  type: z.literal("offer"),
  sessionId: SessionIdSchema,
  sdp: SdpSchema,
});

export const AnswerMessageSchema = z.object({
  type: z.literal("answer"),
  sessionId: SessionIdSchema,
  sdp: SdpSchema,
});

export const IceCandidateMessageSchema = z.object({
  type: z.literal("iceCandidate"),
  sessionId: SessionIdSchema,
  candidate: IceCandidateInitSchema,
});

export const PingMessageSchema = z.object({
  type: z.literal("ping"),
  sessionId: SessionIdSchema,
  /** The streamer's monotonic clock when it sent the ping; echoed unchanged in `pong`. */
  time: TimeSchema,
  /** The streamer's last measured signaling RTT for this session (ping to pong). */
  rttMs: RttSchema.optional(),
  /** The streamer's last measured RTT over the media path (data-channel heartbeat). */
  mediaRttMs: RttSchema.optional(),
  stats: SendStatsSchema.optional(),
});

export const PongMessageSchema = z.object({
  type: z.literal("pong"),
  sessionId: SessionIdSchema,
  /** The `time` of the ping being answered, unchanged. */
  time: TimeSchema,
  stats: ReceiveStatsSchema.optional(),
});

export const EndSessionMessageSchema = z.object({
  type: z.literal("endSession"),
  sessionId: SessionIdSchema,
  /** Why the sender gives up on the session; only the media path failing is defined. */
  reason: z.literal("media-timeout"),
});

export const ProbeAckMessageSchema = z.object({
  type: z.literal("probeAck"),
  /** The `probeId` of the probe being answered. */
  probeId: z.string().min(1).max(64),
});

export const MediaReportMessageSchema = z.object({
  type: z.literal("mediaReport"),
  sessionId: SessionIdSchema,
  /** The `checkId` of the `mediaCheck` being answered. */
  checkId: z.string().min(1).max(64),
  /**
   * true: something from the other end arrived over the media path during the check (a
   * data-channel message, or for a player newly decoded video frames); false: nothing did.
   */
  flowing: z.boolean(),
});

/**
 * "I am leaving": the sender's sessions end at once (`streamer-left` / `player-left`) and its
 * resume token is void, even if its transport then closes without a socket.io DISCONNECT.
 */
export const ByeMessageSchema = z.object({ type: z.literal("bye") });

// ---- peer <-> peer, over the WebRTC data channel MEDIA_HEARTBEAT_CHANNEL ---------------------

/** Label of the data channel the streamer opens for the media-path heartbeat. */
export const MEDIA_HEARTBEAT_CHANNEL = "heartline";

export const MediaPingSchema = z.object({
  type: z.literal("ping"),
  /** The streamer's monotonic clock; echoed unchanged. */
  time: TimeSchema,
  /** The streamer's last measured media-path RTT, for the player to show. */
  rttMs: RttSchema.optional(),
  /** The streamer's last measured signaling RTT, for the player to show. */
  signalingRttMs: RttSchema.optional(),
});

export const MediaPongSchema = z.object({
  type: z.literal("pong"),
  time: TimeSchema,
});

// ---- groups by direction ------------------------------------------------------------------

export const StreamerToHubMessageSchema = z.discriminatedUnion("type", [
  OfferMessageSchema,
  IceCandidateMessageSchema,
  PingMessageSchema,
  EndSessionMessageSchema,
  ProbeAckMessageSchema,
  MediaReportMessageSchema,
  ByeMessageSchema,
]);

export const PlayerToHubMessageSchema = z.discriminatedUnion("type", [
  ListStreamersMessageSchema,
  SubscribeMessageSchema,
  AnswerMessageSchema,
  IceCandidateMessageSchema,
  PongMessageSchema,
  UnsubscribeMessageSchema,
  EndSessionMessageSchema,
  ProbeAckMessageSchema,
  MediaReportMessageSchema,
  ByeMessageSchema,
]);

export const HubToStreamerMessageSchema = z.discriminatedUnion("type", [
  ConfigMessageSchema,
  ResumedMessageSchema,
  SessionStateMessageSchema,
  PlayerJoinedMessageSchema,
  AnswerMessageSchema,
  IceCandidateMessageSchema,
  PongMessageSchema,
  SessionClosedMessageSchema,
  ErrorMessageSchema,
  ProbeMessageSchema,
  MediaCheckMessageSchema,
]);

export const HubToPlayerMessageSchema = z.discriminatedUnion("type", [
  ConfigMessageSchema,
  ResumedMessageSchema,
  SessionStateMessageSchema,
  StreamerListMessageSchema,
  SessionStartedMessageSchema,
  OfferMessageSchema,
  IceCandidateMessageSchema,
  PingMessageSchema,
  SessionClosedMessageSchema,
  ErrorMessageSchema,
  ProbeMessageSchema,
  MediaCheckMessageSchema,
]);

/**
 * The messages the hub relays to the other end of a session, by the role that sends them; the
 * hub answers or acts on every other message itself. Declared once: signaling relays exactly
 * these, and a node that receives a relay from another node delivers exactly these.
 */
export const RELAYED_TYPES = {
  streamer: ["offer", "iceCandidate", "ping"],
  player: ["answer", "iceCandidate", "pong"],
} as const satisfies Record<"streamer" | "player", readonly string[]>;

export type ConfigMessage = z.infer<typeof ConfigMessageSchema>;
export type ResumedMessage = z.infer<typeof ResumedMessageSchema>;
export type SessionStateMessage = z.infer<typeof SessionStateMessageSchema>;
export type SessionEnd = z.infer<typeof SessionEndSchema>;
export type SendStats = z.infer<typeof SendStatsSchema>;
export type ReceiveStats = z.infer<typeof ReceiveStatsSchema>;
export type EndSessionMessage = z.infer<typeof EndSessionMessageSchema>;
export type MediaPing = z.infer<typeof MediaPingSchema>;
export type MediaPong = z.infer<typeof MediaPongSchema>;
export type StreamerListMessage = z.infer<typeof StreamerListMessageSchema>;
export type SessionStartedMessage = z.infer<typeof SessionStartedMessageSchema>;
export type PlayerJoinedMessage = z.infer<typeof PlayerJoinedMessageSchema>;
export type SessionClosedMessage = z.infer<typeof SessionClosedMessageSchema>;
export type ErrorMessage = z.infer<typeof ErrorMessageSchema>;
export type ListStreamersMessage = z.infer<typeof ListStreamersMessageSchema>;
export type SubscribeMessage = z.infer<typeof SubscribeMessageSchema>;
export type UnsubscribeMessage = z.infer<typeof UnsubscribeMessageSchema>;
export type OfferMessage = z.infer<typeof OfferMessageSchema>;
export type AnswerMessage = z.infer<typeof AnswerMessageSchema>;
export type IceCandidateMessage = z.infer<typeof IceCandidateMessageSchema>;
export type IceCandidateInit = z.infer<typeof IceCandidateInitSchema>;
export type IceServer = z.infer<typeof IceServerSchema>;
export type HeartbeatSettings = z.infer<typeof HeartbeatSettingsSchema>;
export type PingMessage = z.infer<typeof PingMessageSchema>;
export type PongMessage = z.infer<typeof PongMessageSchema>;
export type ProbeMessage = z.infer<typeof ProbeMessageSchema>;
export type ProbeAckMessage = z.infer<typeof ProbeAckMessageSchema>;
export type MediaCheckMessage = z.infer<typeof MediaCheckMessageSchema>;
export type MediaReportMessage = z.infer<typeof MediaReportMessageSchema>;
export type ByeMessage = z.infer<typeof ByeMessageSchema>;

export type StreamerToHubMessage = z.infer<typeof StreamerToHubMessageSchema>;
export type PlayerToHubMessage = z.infer<typeof PlayerToHubMessageSchema>;
export type HubToStreamerMessage = z.infer<typeof HubToStreamerMessageSchema>;
export type HubToPlayerMessage = z.infer<typeof HubToPlayerMessageSchema>;
export type HubMessage = HubToStreamerMessage | HubToPlayerMessage;

/** A streamer's message the hub relays to the session's player. */
export type StreamerRelayed = Extract<
  StreamerToHubMessage,
  { type: (typeof RELAYED_TYPES.streamer)[number] }
>;
/** A player's message the hub relays to the session's streamer. */
export type PlayerRelayed = Extract<PlayerToHubMessage, { type: (typeof RELAYED_TYPES.player)[number] }>;
/** A peer's message that travels to the other end of its session. */
export type RelayedMessage = StreamerRelayed | PlayerRelayed;

/** Whether `message`, sent by `role`, is one the hub relays. */
export function isRelayed(role: "streamer", message: StreamerToHubMessage): message is StreamerRelayed;
export function isRelayed(role: "player", message: PlayerToHubMessage): message is PlayerRelayed;
export function isRelayed(
  role: "streamer" | "player",
  message: StreamerToHubMessage | PlayerToHubMessage,
): boolean {
  return (RELAYED_TYPES[role] as readonly string[]).includes(message.type);
}
