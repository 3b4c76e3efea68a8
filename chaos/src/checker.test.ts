/**
 * The checker on synthetic histories: for each invariant, a history that keeps it passes and
 * one that breaks it is caught, with the session's history in the violation.
 */
import { describe, expect, it } from "vitest";
import { check, type Invariant } from "./checker.js";
import type { Bounds, FaultRecord, Histories, NodeName, NodeSnapshot, PeerEvent } from "./history.js";

const bounds: Bounds = {
  intervalMs: 1000,
  timeoutMs: 4000,
  resumeGraceMs: 4000,
  pauseToleranceMs: 1500,
  slackMs: 3000,
  heapSlackBytes: 8e6,
};

/** Streamer g1s0 (group 1, node a) and player g0.p0 (group 0, on `playerNode`), session s1. */
function session(id: string, t: number, playerNode: NodeName = "a"): PeerEvent[] {
  return [
    {
      t,
      peer: "g1.s0",
      group: 1,
      role: "streamer",
      node: "a",
      ev: "started",
      sessionId: id,
      streamerId: "g1s0",
    },
    {
      t,
      peer: "g0.p0",
      group: 0,
      role: "player",
      node: playerNode,
      ev: "started",
      sessionId: id,
      streamerId: "g1s0",
    },
  ];
}

function closed(
  id: string,
  t: number,
  reason: string,
  ends: ("streamer" | "player")[] = ["streamer", "player"],
): PeerEvent[] {
  return ends.map((role) =>
    role === "streamer"
      ? { t, peer: "g1.s0", group: 1, role, node: "a", ev: "closed", sessionId: id, reason }
      : { t, peer: "g0.p0", group: 0, role, node: "a", ev: "closed", sessionId: id, reason },
  );
}

function fault(
  kind: FaultRecord["kind"],
  start: number,
  durationMs: number,
  target?: number | NodeName,
): FaultRecord {
  return {
    id: 1,
    kind,
    atMs: 0,
    durationMs,
    start,
    end: start + durationMs,
    ...(target === undefined ? {} : { target }),
  };
}

function histories(parts: Partial<Histories>): Histories {
  return {
    seed: 1,
    bounds,
    faults: [],
    peers: [],
    hubs: [],
    hubErrors: [],
    exits: [],
    snapshots: [],
    quietAt: 100_000,
    stopAt: 200_000,
    ...parts,
  };
}

const invariants = (h: Histories): Invariant[] => check(h).map((v) => v.invariant);

describe("1. every session that ended did so on both ends with the same, true reason", () => {
  it("passes a long SIGSTOP of the streamer's group ending as streamer-heartbeat-timeout on both ends", () => {
    const h = histories({
      faults: [fault("stop", 10_000, 9000, 1)],
      peers: [...session("s1", 1000), ...closed("s1", 14_500, "streamer-heartbeat-timeout")],
      hubs: [
        { t: 14_400, node: "a", inc: 0, ev: "closed", sessionId: "s1", reason: "streamer-heartbeat-timeout" },
      ],
    });
    expect(check(h)).toEqual([]);
  });

  it("catches ends that disagree", () => {
    const h = histories({
      faults: [fault("stop", 10_000, 9000, 1)],
      peers: [
        ...session("s1", 1000),
        ...closed("s1", 14_500, "streamer-heartbeat-timeout", ["player"]),
        ...closed("s1", 14_500, "hub-link-lost", ["streamer"]),
      ],
    });
    const [violation] = check(h);
    expect(violation?.invariant).toBe("sameReason");
    expect(violation?.message).toContain("disagree");
    expect(violation?.history.some((line) => line.includes("FAULT #1 stop group 1"))).toBe(true);
  });

  it("passes an unsubscribe across a Redis outage, ended as hub-link-lost on the other node", () => {
    const h = histories({
      faults: [fault("redis-outage", 10_000, 8000)],
      peers: [
        ...session("s1", 1000, "b"),
        { t: 11_000, peer: "g0.p0", group: 0, role: "player", node: "b", ev: "unsubscribe", sessionId: "s1" },
        ...closed("s1", 11_001, "unsubscribed", ["player"]),
        ...closed("s1", 13_100, "hub-link-lost", ["streamer"]),
      ],
    });
    expect(check(h)).toEqual([]);
    // Without a break between the nodes, the same two reasons are a disagreement.
    const noBreak = histories({ ...h, faults: [] });
    expect(invariants(noBreak)).toContain("sameReason");
  });

  it("catches a reason the fault does not explain (the player blamed for the streamer's hang)", () => {
    const h = histories({
      faults: [fault("stop", 10_000, 9000, 1)],
      peers: [...session("s1", 1000), ...closed("s1", 14_500, "player-heartbeat-timeout")],
    });
    expect(invariants(h)).toEqual(["sameReason"]);
  });

  it("catches hub-link-lost for a same-node session during a Redis outage", () => {
    const h = histories({
      faults: [fault("redis-outage", 10_000, 9000), fault("stop", 10_000, 9000, 1)],
      peers: [...session("s1", 1000, "a"), ...closed("s1", 14_000, "hub-link-lost")],
    });
    expect(invariants(h)).toEqual(["sameReason"]);
    // Across nodes, hub-link-lost is the true reason.
    const across = histories({
      faults: [fault("redis-outage", 10_000, 9000)],
      peers: [...session("s1", 1000, "b"), ...closed("s1", 14_000, "hub-link-lost")],
    });
    expect(check(across)).toEqual([]);
  });
});

describe("2. no session with healthy ends and a healthy path is torn down", () => {
  it("catches a session ended with no fault on its ends or path", () => {
    const h = histories({
      faults: [fault("stop", 10_000, 9000, 4)],
      peers: [...session("s1", 1000), ...closed("s1", 12_000, "streamer-left")],
    });
    expect(invariants(h)).toEqual(["noFalseTeardown"]);
  });

  it("catches a session ended by a blip (a SIGSTOP shorter than a healthy stall)", () => {
    const h = histories({
      faults: [fault("stop", 10_000, 300, 1)],
      peers: [...session("s1", 1000), ...closed("s1", 11_000, "streamer-heartbeat-timeout")],
    });
    expect(invariants(h)).toEqual(["noFalseTeardown"]);
  });

  it("catches a session ended by hostile input", () => {
    const h = histories({
      faults: [fault("hostile", 10_000, 2000)],
      peers: [...session("s1", 1000), ...closed("s1", 10_500, "unsubscribed")],
    });
    expect(invariants(h)).toEqual(["noFalseTeardown"]);
  });

  it("passes the player's own unsubscribe, and catches a lost session with no fault", () => {
    const unsubscribed = histories({
      peers: [
        ...session("s1", 1000),
        { t: 5000, peer: "g0.p0", group: 0, role: "player", node: "a", ev: "unsubscribe", sessionId: "s1" },
        ...closed("s1", 5010, "unsubscribed"),
      ],
    });
    expect(check(unsubscribed)).toEqual([]);
    const lost = histories({
      peers: [
        ...session("s1", 1000),
        { t: 5000, peer: "g0.p0", group: 0, role: "player", node: "a", ev: "lost", sessionId: "s1" },
      ],
    });
    expect(invariants(lost)).toEqual(["noFalseTeardown"]);
  });
});

describe("3. every dead end is detected within its bound", () => {
  it("catches a kill noticed later than the resume grace plus slack", () => {
    const h = histories({
      faults: [fault("kill", 10_000, 0, 1)],
      peers: [
        ...session("s1", 1000),
        ...closed("s1", 10_000 + 4000 + 3000 + 500, "streamer-left", ["player"]),
      ],
    });
    const [violation] = check(h);
    expect(violation?.invariant).toBe("detectedInTime");
    expect(violation?.message).toContain("the bound is 7000 ms");
    const inTime = histories({
      faults: [fault("kill", 10_000, 0, 1)],
      peers: [...session("s1", 1000), ...closed("s1", 14_200, "streamer-left", ["player"])],
    });
    expect(check(inTime)).toEqual([]);
  });

  it("catches a session that outlives a partition of its player's group", () => {
    const h = histories({ faults: [fault("partition", 10_000, 9000, 0)], peers: session("s1", 1000) });
    expect(invariants(h)).toEqual(["detectedInTime"]);
  });

  it("excuses a session whose only hub died meanwhile (nobody left to tell)", () => {
    const h = histories({
      faults: [fault("stop", 10_000, 9000, 1), { ...fault("hub-kill", 11_000, 2000, "a"), id: 2 }],
      peers: [
        ...session("s1", 1000),
        { t: 16_000, peer: "g0.p0", group: 0, role: "player", node: "a", ev: "lost", sessionId: "s1" },
      ],
    });
    expect(check(h)).toEqual([]);
  });
});

describe("4. nothing leaks once the faults stop", () => {
  const final = (peer: string, node: NodeName, open: string[]): PeerEvent => ({
    t: 150_000,
    peer,
    group: peer.startsWith("g1") ? 1 : 0,
    role: peer.includes(".s") ? "streamer" : "player",
    node,
    ev: "final",
    open,
    connected: true,
  });
  const snapshot = (over: Partial<NodeSnapshot>): NodeSnapshot => ({
    node: "a",
    apiSessions: ["s1"],
    metricSessions: 1,
    metricSockets: 2,
    processErrors: 0,
    heapBaseline: 20e6,
    heapEnd: 21e6,
    ...over,
  });
  const base = { peers: [...session("s1", 1000), final("g1.s0", "a", ["s1"]), final("g0.p0", "a", ["s1"])] };

  it("passes a node that lists and counts exactly what the peers hold", () => {
    expect(check(histories({ ...base, snapshots: [snapshot({})] }))).toEqual([]);
  });

  it("catches a leaked session, a lost one, a wrong gauge and heap growth", () => {
    expect(
      invariants(
        histories({ ...base, snapshots: [snapshot({ apiSessions: ["s1", "s9"], metricSessions: 2 })] }),
      ),
    ).toEqual(["noLeak"]);
    expect(
      invariants(histories({ ...base, snapshots: [snapshot({ apiSessions: [], metricSessions: 0 })] })),
    ).toEqual(["noLeak"]);
    expect(invariants(histories({ ...base, snapshots: [snapshot({ metricSockets: 3 })] }))).toEqual([
      "noLeak",
    ]);
    expect(invariants(histories({ ...base, snapshots: [snapshot({ heapEnd: 40e6 })] }))).toEqual(["noLeak"]);
  });

  it("catches a half-open session (one end holds it, the other does not)", () => {
    const h = histories({
      peers: [...session("s1", 1000), final("g1.s0", "a", ["s1"]), final("g0.p0", "a", [])],
      snapshots: [snapshot({ apiSessions: [], metricSessions: 0 })],
    });
    expect(invariants(h)).toEqual(["noLeak"]);
  });
});

describe("5. no process crashes but the ones the schedule killed", () => {
  it("passes a scheduled kill and catches an exit by itself, an error line and a process error", () => {
    const killed = histories({
      exits: [{ t: 1, name: "peer group 1 (#0)", code: null, signal: "SIGKILL", byFault: true }],
      // The hub saying Redis is gone, during a Redis outage, is a report, not a failure.
      hubErrors: [
        { t: 1, node: "a", msg: "redis link down: cross-node sessions cannot relay; reconnecting" },
      ],
    });
    expect(check(killed)).toEqual([]);
    const crashed = histories({
      exits: [{ t: 1, name: "hub b", code: 1, signal: null, byFault: false }],
      hubErrors: [{ t: 1, node: "a", msg: "unhandled promise rejection" }],
      snapshots: [
        {
          node: "a",
          apiSessions: [],
          metricSessions: 0,
          metricSockets: 0,
          processErrors: 1,
          heapBaseline: 1,
          heapEnd: 1,
        },
      ],
    });
    expect(invariants(crashed)).toEqual(["noCrash", "noCrash", "noCrash"]);
  });
});
