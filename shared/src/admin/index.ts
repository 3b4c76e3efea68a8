/**
 * The operator's view of the hub: what the HTTP API answers (`GET /api/streamers`,
 * `GET /api/sessions`) and what the `/admin` socket.io namespace pushes to the dashboard.
 * The hub builds these; the dashboard only reads them. See docs/api.md.
 */
import type {
  HeartbeatSettings,
  MediaState,
  ReceiveStats,
  SendStats,
  SessionEnd,
} from "../protocol/messages.js";
import type { SessionCloseReason } from "../protocol/reasons.js";

/** The socket.io namespace of the dashboard; the handshake `auth` is `{token: admin.token}`. */
export const ADMIN_NAMESPACE = "/admin";

/** Codes of a refused `/admin` handshake (the `connect_error` message) and of API errors. */
export const AdminError = {
  /** `admin.token` is not set: the dashboard and the admin API are off. */
  Disabled: "admin-disabled",
  /** The token is missing or wrong. */
  Unauthorized: "unauthorized",
  /** No such session or streamer. */
  NotFound: "not-found",
  /** A malformed request (missing id). */
  InvalidRequest: "invalid-request",
  /** This address guessed wrong too often and is locked out for a while (HTTP 429). */
  TooManyAttempts: "too-many-attempts",
} as const;
export type AdminError = (typeof AdminError)[keyof typeof AdminError];

export interface StreamerView {
  streamerId: string;
  /** Sessions it serves now. */
  players: number;
  /** Its socket dropped and it may still resume. */
  away: boolean;
  /** The wire protocol it speaks: heartline's own or Epic's Pixel Streaming. */
  protocol: "heartline" | "pixelstreaming";
}

export interface SessionView {
  id: string;
  streamerId: string;
  /** The player's hub-issued peer id. */
  playerId: string;
  state: "connecting" | "live" | "stale";
  /** The end that is late while `stale`, else null. */
  late: SessionEnd | null;
  /** Whether video reaches the player, from its reports (null: not known yet). */
  media: MediaState | null;
  /** Multi-node: the end held by another hub node, and that node; null when both are here. */
  elsewhere: { end: SessionEnd; nodeId: string } | null;
  /** The wire protocol both ends speak: heartline's own or Epic's Pixel Streaming. */
  protocol: "heartline" | "pixelstreaming";
  /** Wall-clock start, ISO 8601. */
  startedAt: string;
  ageMs: number;
  /** The latest heartbeat figures the ends reported (null: none yet). */
  heartbeat: {
    /** Signaling RTT as the streamer measured it. */
    rttMs: number | null;
    /** Media-path (data channel) RTT as the streamer measured it. */
    mediaRttMs: number | null;
    sendStats: SendStats | null;
    receiveStats: ReceiveStats | null;
  };
}

/** A session that ended, for the dashboard's log. */
export interface SessionEnding {
  sessionId: string;
  streamerId: string;
  playerId: string;
  reason: SessionCloseReason;
  /** Wall-clock end, ISO 8601. */
  endedAt: string;
  ageMs: number;
}

/** Recent heartbeat RTT samples of one session: parallel arrays, oldest first. */
export interface RttHistory {
  /** Wall-clock times, ms since the epoch. */
  t: number[];
  rttMs: number[];
}

/** Everything the dashboard shows, pushed on connect, on every change and once a second. */
export interface DashboardSnapshot {
  /** Wall-clock time of the snapshot, ISO 8601. */
  at: string;
  heartbeat: HeartbeatSettings;
  streamers: StreamerView[];
  sessions: (SessionView & { rtt: RttHistory })[];
  /** Most recent first. */
  endings: SessionEnding[];
}

export type AdminActionResult = { ok: true } | { ok: false; code: AdminError; message: string };

/** Dashboard -> hub. Every action is audit-logged with the dashboard's address. */
export interface AdminListenEvents {
  /** Ends a session with the reason `kicked`. */
  endSession: (request: { sessionId: string }, ack: (result: AdminActionResult) => void) => void;
  /** Ends a streamer's sessions (`kicked`) and disconnects its socket. */
  disconnectStreamer: (request: { streamerId: string }, ack: (result: AdminActionResult) => void) => void;
}

/** Hub -> dashboard. */
export interface AdminEmitEvents {
  snapshot: (snapshot: DashboardSnapshot) => void;
}
