/**
 * The checker: every history of a run in, the violations of the five invariants out. Pure (no
 * clock, no I/O), so each rule is tested on synthetic histories (checker.test.ts).
 *
 * What each fault explains, and by when it must have been noticed (the bounds of
 * docs/heartbeat.md and docs/cluster.md, plus `slackMs` for a loaded machine):
 *
 * | fault                          | sessions it touches          | the true reason                 | noticed by                                 |
 * | ------------------------------ | ---------------------------- | ------------------------------- | ------------------------------------------ |
 * | SIGSTOP of a group (long)      | an end in the group          | `<end>-heartbeat-timeout` (1)   | start + timeout (+ interval for a player)  |
 * | SIGSTOP of a group (blip)      | none: must survive           | –                               | –                                          |
 * | SIGKILL of a group             | an end in the group          | `<end>-left`                    | start + resumeGraceMs                      |
 * | partition of the netns group   | an end in the group          | `<end>-heartbeat-timeout` (1)   | start + timeout (+ interval for a player)  |
 * | 20 % loss on the netns group   | an end in the group          | `<end>-heartbeat-timeout`/-left | may survive                                |
 * | hub node SIGKILLed (restarted) | across nodes, an end on it   | `hub-link-lost`                 | start + timeout                            |
 * |                                | both ends on it              | none can be told (lost)         | –                                          |
 * | Redis outage                   | across nodes                 | `hub-link-lost`                 | start + timeout                            |
 * | hostile input                  | none: must survive           | –                               | –                                          |
 *
 * (1) or `<end>-left` for a session that started after the fault began (see `effect`).
 * A player's own `unsubscribe` explains `unsubscribed`. Overlapping faults explain the union of
 * their reasons.
 */
import type { Bounds, FaultRecord, Histories, NodeName, PeerEvent, Role } from "./history.js";
import { blipMaxMs } from "./schedule.js";
import { streamerHome } from "./topology.js";

export const INVARIANTS = {
  sameReason: "1. ended on both ends with the same, true reason",
  noFalseTeardown: "2. no healthy session torn down",
  detectedInTime: "3. every dead end detected within its bound",
  noLeak: "4. nothing leaked once the faults stopped",
  noCrash: "5. no process crashed but the ones the schedule killed",
} as const;
export type Invariant = keyof typeof INVARIANTS;

export interface Violation {
  invariant: Invariant;
  sessionId?: string;
  message: string;
  /** The session's history (or the process's), one line per event, for the report. */
  history: string[];
}

interface End {
  peer?: string;
  group: number;
  node: NodeName;
}

/** A session as every history together tells it. */
export interface SessionStory {
  id: string;
  streamerId?: string;
  streamer?: End;
  player?: End;
  startedAt: number;
  /** Every `sessionClosed` a peer got and every "session closed" a hub logged. */
  closes: { by: string; reason: string; t: number }[];
  /** Ends that held it and lost track of it (not resumed). */
  lost: { by: string; t: number }[];
  unsubscribedAt?: number;
  lines: string[];
}

const fmt = (t: number, origin: number) => `+${((t - origin) / 1000).toFixed(3)}s`;

/** Joins peer and hub events by session id. */
export function sessionStories(h: Histories): Map<string, SessionStory> {
  const stories = new Map<string, SessionStory>();
  const origin = h.faults[0]?.start ?? h.peers[0]?.t ?? 0;
  const story = (id: string, t: number): SessionStory => {
    let s = stories.get(id);
    if (!s) {
      s = { id, startedAt: t, closes: [], lost: [], lines: [] };
      stories.set(id, s);
    }
    s.startedAt = Math.min(s.startedAt, t);
    return s;
  };
  for (const e of h.peers) {
    if (e.ev !== "started" && e.ev !== "closed" && e.ev !== "lost" && e.ev !== "unsubscribe") continue;
    const s = story(e.sessionId, e.t);
    const who = `${e.role} ${e.peer} (node ${e.node})`;
    switch (e.ev) {
      case "started": {
        s.streamerId = e.streamerId;
        const end = { peer: e.peer, group: e.group, node: e.node };
        if (e.role === "streamer") s.streamer = end;
        else s.player = end;
        s.lines.push(`${fmt(e.t, origin)} ${who}: started (streamer ${e.streamerId})`);
        break;
      }
      case "closed":
        s.closes.push({ by: who, reason: e.reason, t: e.t });
        s.lines.push(`${fmt(e.t, origin)} ${who}: sessionClosed ${e.reason}`);
        break;
      case "lost":
        s.lost.push({ by: who, t: e.t });
        s.lines.push(`${fmt(e.t, origin)} ${who}: lost (not resumed)`);
        break;
      case "unsubscribe":
        s.unsubscribedAt = Math.min(s.unsubscribedAt ?? e.t, e.t);
        s.lines.push(`${fmt(e.t, origin)} ${who}: sent unsubscribe`);
        break;
    }
  }
  for (const e of h.hubs) {
    // Hub lines only add to sessions a peer saw: a session nobody was told of is not one.
    const s = stories.get(e.sessionId);
    if (!s) continue;
    if (e.ev === "closed") {
      s.closes.push({ by: `hub ${e.node}`, reason: e.reason ?? "?", t: e.t });
      s.lines.push(`${fmt(e.t, origin)} hub ${e.node}#${e.inc}: session closed ${e.reason ?? "?"}`);
    } else s.lines.push(`${fmt(e.t, origin)} hub ${e.node}#${e.inc}: session started`);
  }
  for (const s of stories.values()) {
    // The streamer's end is known from its id even if that end never saw the session.
    const home = s.streamerId === undefined ? undefined : streamerHome(s.streamerId);
    if (!s.streamer && home) s.streamer = { group: home.group, node: home.node };
    s.lines.sort();
  }
  return stories;
}

/** What one fault says about one session. */
interface Effect {
  fault: FaultRecord;
  reasons: ReadonlySet<string>;
  /** The session, alive when the fault began, must have ended by then. */
  deadline?: number;
  /** Until when a close (or a loss) is put down to this fault. */
  until: number;
  /** The fault can make an end lose track of the session without a reason. */
  explainsLoss: boolean;
}

function endIn(s: SessionStory, group: number): Role | undefined {
  if (s.streamer?.group === group) return "streamer";
  if (s.player?.group === group) return "player";
  return undefined;
}

function crossNode(s: SessionStory): boolean {
  return s.streamer !== undefined && s.player !== undefined && s.streamer.node !== s.player.node;
}

function effect(f: FaultRecord, s: SessionStory, b: Bounds): Effect | undefined {
  const detect = (role: Role) => b.timeoutMs + (role === "player" ? b.intervalMs : 0) + b.slackMs;
  switch (f.kind) {
    case "stop":
    case "partition":
    case "loss": {
      const role = typeof f.target === "number" ? endIn(s, f.target) : undefined;
      if (!role) return undefined;
      if (f.kind === "stop" && f.durationMs <= blipMaxMs(b)) return undefined;
      // A silent socket is also closed by engine.io's own ping timeout (timeout + 2 intervals):
      // a session that started after the fault (no beat of that end to lapse yet) may then end
      // as the dropped end's `-left` after the resume grace. One alive before must lapse first.
      const reasons =
        f.kind === "loss" || s.startedAt >= f.start
          ? [`${role}-heartbeat-timeout`, `${role}-left`]
          : [`${role}-heartbeat-timeout`];
      return {
        fault: f,
        reasons: new Set(reasons),
        ...(f.kind === "loss" ? {} : { deadline: f.start + detect(role) }),
        until: f.end + b.timeoutMs + b.resumeGraceMs + b.slackMs,
        explainsLoss: true,
      };
    }
    case "kill": {
      const role = typeof f.target === "number" ? endIn(s, f.target) : undefined;
      if (!role) return undefined;
      return {
        fault: f,
        reasons: new Set([`${role}-left`]),
        deadline: f.start + b.resumeGraceMs + b.slackMs,
        until: f.start + b.resumeGraceMs + b.timeoutMs + b.slackMs,
        explainsLoss: true,
      };
    }
    case "hub-kill": {
      if (s.streamer?.node !== f.target && s.player?.node !== f.target) return undefined;
      const until = f.end + b.timeoutMs + b.slackMs;
      if (!crossNode(s)) return { fault: f, reasons: new Set(), until, explainsLoss: true };
      return {
        fault: f,
        reasons: new Set(["hub-link-lost"]),
        deadline: f.start + b.timeoutMs + b.slackMs,
        until,
        explainsLoss: true,
      };
    }
    case "redis-outage":
      if (!crossNode(s)) return undefined;
      return {
        fault: f,
        reasons: new Set(["hub-link-lost"]),
        deadline: f.start + b.timeoutMs + b.slackMs,
        until: f.end + b.timeoutMs + b.slackMs,
        explainsLoss: false,
      };
    case "hostile":
      return undefined;
  }
}

function describeFault(f: FaultRecord, origin: number): string {
  const target =
    f.target === undefined
      ? ""
      : ` ${typeof f.target === "number" ? `group ${f.target}` : `node ${f.target}`}`;
  return `${fmt(f.start, origin)} FAULT #${f.id} ${f.kind}${target} for ${f.durationMs} ms`;
}

/**
 * Error-level hub lines that report a fault the schedule injected, not a failure of the hub:
 * every other error line (a handler that threw, an unhandled rejection, an uncaught exception)
 * is a violation of invariant 5.
 */
const FAULT_REPORTS: readonly RegExp[] = [/^redis link down\b/];

/** Faults that cut the link between the nodes: each side may end a shared session alone. */
const splitsNodes = (e: Effect) => e.fault.kind === "redis-outage" || e.fault.kind === "hub-kill";

export function check(h: Histories): Violation[] {
  const violations: Violation[] = [];
  const b = h.bounds;
  const origin = h.faults[0]?.start ?? 0;
  const stories = sessionStories(h);

  for (const s of stories.values()) {
    const effects = h.faults.flatMap((f) => {
      const e = effect(f, s, b);
      return e ? [e] : [];
    });
    const history = () =>
      [...effects.map((e) => describeFault(e.fault, origin)), ...s.lines].sort(
        (x, y) => Number.parseFloat(x.slice(1)) - Number.parseFloat(y.slice(1)),
      );
    const closes = s.closes.filter((c) => c.t < h.stopAt);
    const closedAt = closes.length > 0 ? Math.min(...closes.map((c) => c.t)) : undefined;

    // 1. Same reason everywhere, and the true one. One exception: while the nodes cannot hear
    // each other, an end that leaves (or unsubscribes, or lapses) across the break is ended as
    // hub-link-lost on the other side, which cannot learn why (docs/reliability.md).
    const reasons = new Set(closes.map((c) => c.reason));
    const split =
      reasons.size === 2 &&
      reasons.has("hub-link-lost") &&
      closedAt !== undefined &&
      effects.some(
        (e) =>
          splitsNodes(e) &&
          e.reasons.has("hub-link-lost") &&
          e.fault.start <= closedAt &&
          closedAt <= e.until,
      );
    if (reasons.size > 1 && !split)
      violations.push({
        invariant: "sameReason",
        sessionId: s.id,
        message: `ends disagree on why session ${s.id} ended: ${[...reasons].join(" vs ")}`,
        history: history(),
      });
    if (closedAt !== undefined) {
      const explaining = effects.filter((e) => e.fault.start <= closedAt && closedAt <= e.until);
      const allowed = new Set(explaining.flatMap((e) => [...e.reasons]));
      if (s.unsubscribedAt !== undefined && s.unsubscribedAt <= closedAt) allowed.add("unsubscribed");
      for (const reason of reasons) {
        if (allowed.has(reason)) continue;
        if (allowed.size === 0)
          violations.push({
            invariant: "noFalseTeardown",
            sessionId: s.id,
            message: `session ${s.id} ended (${reason}) though no fault touched its ends or its path`,
            history: history(),
          });
        else
          violations.push({
            invariant: "sameReason",
            sessionId: s.id,
            message: `session ${s.id} ended with ${reason}; the faults then explain only ${[...allowed].join(", ")}`,
            history: history(),
          });
      }
    }
    // A loss of track with no reason is only fine when a fault could cause it.
    for (const lost of s.lost) {
      if (lost.t >= h.stopAt || closedAt !== undefined) continue;
      if (effects.some((e) => e.explainsLoss && e.fault.start <= lost.t && lost.t <= e.until)) continue;
      violations.push({
        invariant: "noFalseTeardown",
        sessionId: s.id,
        message: `${lost.by} lost session ${s.id} without a fault on its path`,
        history: history(),
      });
    }

    // 3. Detected within the bound: a session alive when a fault killed one of its ends.
    for (const e of effects) {
      if (e.deadline === undefined || s.startedAt >= e.fault.start) continue;
      if (closedAt !== undefined && closedAt < e.fault.start) continue;
      if (s.lost.some((l) => l.t < e.fault.start)) continue;
      if (closedAt !== undefined && closedAt <= e.deadline) continue;
      // A hub that died meanwhile cannot say anything about its sessions.
      const deadline = e.deadline;
      const hubGone = h.faults.some(
        (f) =>
          f.kind === "hub-kill" &&
          (f.target === s.streamer?.node || f.target === s.player?.node) &&
          f.start <= deadline &&
          f.end + b.timeoutMs >= e.fault.start,
      );
      if (hubGone && closedAt === undefined) continue;
      violations.push({
        invariant: "detectedInTime",
        sessionId: s.id,
        message:
          closedAt === undefined
            ? `session ${s.id} outlived fault #${e.fault.id} (${e.fault.kind}), which it should not survive`
            : `session ${s.id} ended ${closedAt - e.fault.start} ms after fault #${e.fault.id} (${e.fault.kind}); the bound is ${deadline - e.fault.start} ms`,
        history: history(),
      });
    }
  }

  violations.push(...leakViolations(h, stories));

  // 5. No crash but the scheduled ones.
  for (const exit of h.exits) {
    if (exit.byFault) continue;
    violations.push({
      invariant: "noCrash",
      message: `${exit.name} exited by itself (${exit.signal ?? `code ${exit.code}`}) at ${fmt(exit.t, origin)}`,
      history: [],
    });
  }
  for (const error of h.hubErrors.filter((e) => !FAULT_REPORTS.some((re) => re.test(e.msg))))
    violations.push({
      invariant: "noCrash",
      message: `hub ${error.node} logged an error at ${fmt(error.t, origin)}: ${error.msg}`,
      history: [],
    });
  for (const snapshot of h.snapshots)
    if (snapshot.processErrors > 0)
      violations.push({
        invariant: "noCrash",
        message: `hub ${snapshot.node} counted ${snapshot.processErrors} process errors (heartline_process_errors_total)`,
        history: [],
      });
  return violations;
}

/**
 * 4. Once the faults stopped: the sessions both ends hold are exactly the ones each node lists
 * and counts, every connected peer is counted once, and the heap is back near its baseline.
 */
export function leakViolations(h: Histories, stories = sessionStories(h)): Violation[] {
  const violations: Violation[] = [];
  const finals = new Map<string, Extract<PeerEvent, { ev: "final" }>>();
  for (const e of h.peers) if (e.ev === "final") finals.set(e.peer, e);
  if (finals.size === 0) return violations;
  const openAt = new Map<string, Set<string>>();
  for (const f of finals.values())
    for (const id of f.open) openAt.set(id, (openAt.get(id) ?? new Set()).add(f.peer));
  /** Sessions both ends hold, by the nodes they involve. */
  const expected = new Map<NodeName, Set<string>>([
    ["a", new Set()],
    ["b", new Set()],
  ]);
  for (const [id, holders] of openAt) {
    const s = stories.get(id);
    const ends = [s?.streamer?.peer, s?.player?.peer];
    const missing = ends.filter((peer) => peer !== undefined && finals.has(peer) && !holders.has(peer));
    if (!s || missing.length > 0 || ends.includes(undefined)) {
      violations.push({
        invariant: "noLeak",
        sessionId: id,
        message: `half-open session ${id}: held by ${[...holders].join(", ")} but not by ${missing.join(", ") || "its other end"}`,
        history: s?.lines ?? [],
      });
      continue;
    }
    if (s.streamer) expected.get(s.streamer.node)?.add(id);
    if (s.player) expected.get(s.player.node)?.add(id);
  }
  for (const snapshot of h.snapshots) {
    const want = expected.get(snapshot.node) ?? new Set<string>();
    const have = new Set(snapshot.apiSessions);
    const extra = [...have].filter((id) => !want.has(id));
    const gone = [...want].filter((id) => !have.has(id));
    if (extra.length > 0)
      violations.push({
        invariant: "noLeak",
        message: `node ${snapshot.node} still lists ${extra.length} session(s) no peer holds: ${extra.slice(0, 5).join(", ")}`,
        history: extra.slice(0, 3).flatMap((id) => stories.get(id)?.lines ?? [`${id}: never seen by a peer`]),
      });
    if (gone.length > 0)
      violations.push({
        invariant: "noLeak",
        message: `node ${snapshot.node} does not list ${gone.length} session(s) both ends hold: ${gone.slice(0, 5).join(", ")}`,
        history: gone.slice(0, 3).flatMap((id) => stories.get(id)?.lines ?? []),
      });
    if (snapshot.metricSessions !== snapshot.apiSessions.length)
      violations.push({
        invariant: "noLeak",
        message: `node ${snapshot.node}: heartline_sessions says ${snapshot.metricSessions}, /api/sessions lists ${snapshot.apiSessions.length}`,
        history: [],
      });
    const connected = [...finals.values()].filter((f) => f.connected && f.node === snapshot.node).length;
    if (snapshot.metricSockets !== connected)
      violations.push({
        invariant: "noLeak",
        message: `node ${snapshot.node}: heartline_connected_sockets says ${snapshot.metricSockets}, ${connected} peers are connected to it`,
        history: [],
      });
    const growth = snapshot.heapEnd - snapshot.heapBaseline;
    if (growth > h.bounds.heapSlackBytes)
      violations.push({
        invariant: "noLeak",
        message: `node ${snapshot.node}: heap grew ${(growth / 1e6).toFixed(1)} MB (${(snapshot.heapBaseline / 1e6).toFixed(1)} → ${(snapshot.heapEnd / 1e6).toFixed(1)} MB after GC); allowed ${(h.bounds.heapSlackBytes / 1e6).toFixed(0)} MB`,
        history: [],
      });
  }
  return violations;
}
