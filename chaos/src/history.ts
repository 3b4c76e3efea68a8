/**
 * What every process of a chaos run writes down (one JSON object a line, in the run directory),
 * and what the checker reads. Times are wall-clock ms (`Date.now()`, pino's `time`): every
 * process runs on this one machine, so one clock orders them all.
 */

/** Which hub node a peer talks to. */
export type NodeName = "a" | "b";
export type Role = "streamer" | "player";

/** One thing a peer saw or did, as its group process recorded it. */
export type PeerEvent = {
  t: number;
  /** `g2.p5`, `g0.s1`: group and peer, stable across the group's restarts. */
  peer: string;
  group: number;
  role: Role;
  node: NodeName;
} & (
  | { ev: "connected"; peerId: string }
  | { ev: "disconnected"; why: string }
  | { ev: "resumed"; sessionIds: string[] }
  /** Player: `sessionStarted`; streamer: `playerJoined`. */
  | { ev: "started"; sessionId: string; streamerId: string }
  | { ev: "closed"; sessionId: string; reason: string }
  /**
   * The peer held the session and can no longer learn how it ended: its socket came back and
   * the session was not among the resumed ones (or the hub did not know the peer at all).
   */
  | { ev: "lost"; sessionId: string }
  | { ev: "unsubscribe"; sessionId: string }
  | { ev: "error"; code: string; sessionId?: string }
  /** Written when the group is asked to stop: the sessions it holds open now. */
  | { ev: "final"; open: string[]; connected: boolean }
);

/** A session line from a hub's own log ("session started" / "session closed"). */
export interface HubEvent {
  t: number;
  node: NodeName;
  /** Which start of that node (0, then 1 after its first restart, …). */
  inc: number;
  ev: "started" | "closed";
  sessionId: string;
  reason?: string;
}

export type FaultKind =
  | "stop" // SIGSTOP a peer group, SIGCONT after `durationMs`
  | "kill" // SIGKILL a peer group (started again later, as new peers)
  | "partition" // blackhole the namespaced group's link, heal after `durationMs`
  | "loss" // drop 20 % of the namespaced group's packets at random for `durationMs`
  | "hub-kill" // SIGKILL a hub node, start it again after `durationMs`
  | "redis-outage" // SIGKILL redis-server, start it again after `durationMs`
  | "hostile"; // garbage, floods, spoofed session ids, forged Redis frames

/** A fault as the schedule planned it. */
export interface PlannedFault {
  id: number;
  kind: FaultKind;
  /** ms after the faults began. */
  atMs: number;
  durationMs: number;
  /** A peer group (stop, kill, partition, loss) or a hub node (hub-kill). */
  target?: number | NodeName;
}

/** A fault as it happened: wall-clock start and end (`end` = start for an instant one). */
export interface FaultRecord extends PlannedFault {
  start: number;
  end: number;
}

/** A process that exited before the run stopped it, and whether the schedule did that. */
export interface ProcessExit {
  t: number;
  name: string;
  code: number | null;
  signal: string | null;
  byFault: boolean;
}

/** A hub's log line at error or fatal level (an uncaught exception, an unhandled rejection). */
export interface HubError {
  t: number;
  node: NodeName;
  msg: string;
}

/** One node's view once the faults stopped and the run settled. */
export interface NodeSnapshot {
  node: NodeName;
  /** Session ids in `/api/sessions`. */
  apiSessions: string[];
  /** `heartline_sessions` summed over its states. */
  metricSessions: number;
  /** `heartline_connected_sockets` summed over roles. */
  metricSockets: number;
  /** `heartline_process_errors_total` summed. */
  processErrors: number;
  /** Heap after a full GC, before the first fault (or right after a restart) and at the end. */
  heapBaseline: number;
  heapEnd: number;
}

/** The timing the checker judges by (from the hubs' config). */
export interface Bounds {
  intervalMs: number;
  timeoutMs: number;
  resumeGraceMs: number;
  pauseToleranceMs: number;
  /** What the machine may add to any bound (a loaded 2-core box, timers, process start). */
  slackMs: number;
  /** Heap growth allowed between the baseline and the end, bytes. */
  heapSlackBytes: number;
}

/** Everything a run recorded: the checker's only input. */
export interface Histories {
  seed: number;
  bounds: Bounds;
  faults: FaultRecord[];
  peers: PeerEvent[];
  hubs: HubEvent[];
  hubErrors: HubError[];
  exits: ProcessExit[];
  snapshots: NodeSnapshot[];
  /** When the last fault ended (and the run stopped starting new sessions for the snapshot). */
  quietAt: number;
  /** When the runner began stopping peers and hubs: later closes are its own doing. */
  stopAt: number;
}
