/** The registry's teardown cannot be broken by whoever watches it. */
import { describe, expect, it } from "vitest";
import pino from "pino";
import type { PeerMessage } from "./Peer.js";
import { FakeClock } from "@heartline/shared/testing";
import { SessionRegistry, type SessionBridge } from "./SessionRegistry.js";

describe("SessionRegistry observer", () => {
  it("a listener that throws is logged, the other listeners still run, and the session still closes on both ends", () => {
    const lines: Record<string, unknown>[] = [];
    const registry = new SessionRegistry({
      heartbeat: { intervalMs: 1000, timeoutMs: 3000, staleAfterMs: 1500, resumeGraceMs: 3000 },
      enforce: true,
      clock: new FakeClock(),
      logger: pino(
        { level: "info" },
        { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
      ),
    });
    const told = { streamer: [] as PeerMessage[], player: [] as PeerMessage[] };
    const streamer = registry.addPeer("streamer", "cam1", {
      send: (m) => told.streamer.push(m),
      close: () => undefined,
    });
    const player = registry.addPeer("player", undefined, {
      send: (m) => told.player.push(m),
      close: () => undefined,
    });
    if (!streamer || !player) throw new Error("peers not added");
    const session = registry.open(streamer, player);
    const heard: string[] = [];
    registry.observer.on("sessionClosed", () => {
      throw new Error("a broken dashboard");
    });
    registry.observer.on("sessionClosed", (closed) => heard.push(closed.id));

    registry.close(session, "kicked");

    expect(heard).toEqual([session.id]);
    expect(registry.sessionCount).toBe(0);
    expect(registry.watchedCount).toBe(0);
    for (const messages of [told.streamer, told.player])
      expect(messages.at(-1)).toEqual({ type: "sessionClosed", sessionId: session.id, reason: "kicked" });
    expect(lines.find((l) => l.msg === "a session observer failed; teardown carried on")).toMatchObject({
      event: "sessionClosed",
    });
  });
});

/** A registry with a recording bridge, a local player and a streamer on node "b". */
function crossNode() {
  const registry = new SessionRegistry({
    heartbeat: { intervalMs: 1000, timeoutMs: 3000, staleAfterMs: 1500, resumeGraceMs: 3000 },
    enforce: true,
    clock: new FakeClock(),
    logger: pino({ level: "silent" }),
  });
  const bridged: string[] = [];
  const bridge: SessionBridge = {
    started: (s) => bridged.push(`started ${s.id}`),
    late: (s, late) => bridged.push(`late ${s.id} ${String(late)}`),
    closed: (s, reason) => bridged.push(`closed ${s.id} ${reason}`),
    ended: (s) => bridged.push(`ended ${s.id}`),
    streamersChanged: () => bridged.push("streamers"),
  };
  registry.bridge = bridge;
  const told: PeerMessage[] = [];
  const player = registry.addPeer("player", undefined, { send: (m) => told.push(m), close: () => undefined });
  if (!player) throw new Error("player not added");
  player.features = new Set(["mediaCheck"]);
  const relayed: PeerMessage[] = [];
  const streamer = registry.remotePeer("b", "cam1@b", "streamer", "cam1", {
    send: (m) => relayed.push(m),
    close: () => undefined,
  });
  return { registry, bridged, told, relayed, player, streamer };
}

describe("SessionRegistry lifecycle", () => {
  it("a pending cross-node session is told to nobody, watched by nobody, and starts on confirm", () => {
    const { registry, bridged, told, relayed, player, streamer } = crossNode();
    const session = registry.openPending(streamer, player);
    expect(session.state).toBe("pending");
    expect(registry.watchedCount).toBe(0);
    // The player dropping while the open is in flight says nothing about this session: no
    // state to anyone, no "late" to the other node (which does not know the session yet).
    const transport = { send: (m: PeerMessage) => told.push(m), close: () => undefined };
    registry.peerAway(player);
    expect([told, bridged, relayed]).toEqual([[], [], []]);
    player.attach(transport);
    registry.peerResumed(player, true);
    expect(registry.confirm(session)).toBe(true);
    expect(session.state).toBe("connecting");
    expect(registry.watchedCount).toBe(1);
    expect(told).toEqual([{ type: "sessionStarted", sessionId: session.id, streamerId: "cam1" }]);
    expect(bridged).toEqual([`started ${session.id}`]);
    expect(registry.confirm(session)).toBe(false);
  });

  it("abandon forgets a refused open without telling anyone, the other node included", () => {
    const { registry, bridged, told, player, streamer } = crossNode();
    const session = registry.openPending(streamer, player);
    registry.abandon(session);
    expect([session.state, registry.sessionCount, player.sessions.size]).toEqual(["closed", 0, 0]);
    expect(registry.confirm(session)).toBe(false);
    expect(told).toEqual([]);
    expect(bridged).toEqual([]);
    expect(registry.remotePeerCount).toBe(0);
  });

  it("close tells the other node; remoteClosed does not; both tell the end here and end it in the cluster", () => {
    const { registry, bridged, told, player, streamer } = crossNode();
    const first = registry.open(streamer, player);
    const second = registry.open(streamer, player);
    bridged.length = 0;
    told.length = 0;
    registry.close(first, "kicked");
    registry.remoteClosed(second, "streamer-left");
    expect(bridged).toEqual([`closed ${first.id} kicked`, `ended ${first.id}`, `ended ${second.id}`]);
    expect(told).toEqual([
      { type: "sessionClosed", sessionId: first.id, reason: "kicked" },
      { type: "sessionClosed", sessionId: second.id, reason: "streamer-left" },
    ]);
    expect(registry.sessionCount).toBe(0);
  });

  it("a node declared gone ends its started sessions; an open pending with it waits for its answer", () => {
    const { registry, told, player, streamer } = crossNode();
    const started = registry.open(streamer, player);
    const pending = registry.openPending(streamer, player);
    told.length = 0;
    // As when the first envelope from a restarted node is the `opened` of the new process.
    registry.closeNode("b", "hub-link-lost");
    expect([started.state, pending.state]).toEqual(["closed", "pending"]);
    expect(told).toEqual([{ type: "sessionClosed", sessionId: started.id, reason: "hub-link-lost" }]);
    expect(registry.confirm(pending)).toBe(true);
    expect(told.at(-1)).toEqual({ type: "sessionStarted", sessionId: pending.id, streamerId: "cam1" });
  });

  it("a pending open the player gives up on is closed on the other node too", () => {
    const { registry, bridged, told, player, streamer } = crossNode();
    const session = registry.openPending(streamer, player);
    registry.close(session, "unsubscribed");
    expect(bridged).toEqual([`closed ${session.id} unsubscribed`]);
    expect(told).toEqual([]);
  });

  it("counts sessions per player token as they start and end, and a throwing observer changes nothing", () => {
    const { registry, bridged, player, streamer } = crossNode();
    const twin = registry.addPeer("player", undefined, { send: () => undefined, close: () => undefined });
    if (!twin) throw new Error("player not added");
    player.tokenId = "jti-1";
    twin.tokenId = "jti-1";
    registry.observer.on("sessionStarted", () => {
      throw new Error("a broken dashboard");
    });
    const pending = registry.openPending(streamer, player);
    expect(registry.sessionsHeldWithToken(twin)).toBe(0);
    registry.confirm(pending);
    const other = registry.open(streamer, twin);
    expect(registry.sessionsHeldWithToken(player)).toBe(2);
    expect(bridged.filter((line) => line.startsWith("started"))).toHaveLength(2);
    registry.close(pending, "unsubscribed");
    expect(registry.sessionsHeldWithToken(twin)).toBe(1);
    registry.remoteClosed(other, "streamer-left");
    expect(registry.sessionsHeldWithToken(player)).toBe(0);
  });
});
