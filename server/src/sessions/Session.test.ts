import { describe, expect, it } from "vitest";
import { Peer } from "./Peer.js";
import { Session } from "./Session.js";

const transport = { send: () => undefined, close: () => undefined };
function session(): Session {
  const streamer = new Peer("s", "streamer", "cam1", "t".repeat(32), transport);
  const player = new Peer("p", "player", undefined, "u".repeat(32), transport);
  return new Session("id", streamer, player, 0);
}

describe("Session state machine", () => {
  it("starts connecting and goes live on the first pong, once", () => {
    const s = session();
    expect(s.state).toBe("connecting");
    expect(s.markProven()).toBe(true);
    expect(s.state).toBe("live");
    expect(s.markProven()).toBe(false);
  });

  it("live -> stale when an end is late, naming it; stale -> live when none is", () => {
    const s = session();
    s.markProven();
    expect(s.setLate("player")).toBe(true);
    expect([s.state, s.late]).toEqual(["stale", "player"]);
    expect(s.setLate("player")).toBe(false);
    expect(s.setLate(undefined)).toBe(true);
    expect([s.state, s.late]).toEqual(["live", undefined]);
    expect(s.setLate(undefined)).toBe(false);
  });

  it("stale reports a change when the late end changes", () => {
    const s = session();
    s.markProven();
    s.setLate("player");
    expect(s.setLate("streamer")).toBe(true);
    expect(s.late).toBe("streamer");
  });

  it("connecting -> stale -> connecting while no pong was ever seen", () => {
    const s = session();
    expect(s.setLate("streamer")).toBe(true);
    expect(s.state).toBe("stale");
    expect(s.setLate(undefined)).toBe(true);
    expect(s.state).toBe("connecting");
  });

  it("a pong while stale does not hide the late end; it goes live once the end is on time", () => {
    const s = session();
    s.setLate("streamer");
    expect(s.markProven()).toBe(false);
    expect(s.state).toBe("stale");
    s.setLate(undefined);
    expect(s.state).toBe("live");
  });

  it("close is idempotent, says what it closed, keeps the first reason, and freezes the state", () => {
    const s = session();
    s.markProven();
    expect(s.close("player-left")).toBe("live");
    expect(s.close("streamer-left")).toBeUndefined();
    expect([s.state, s.closeReason]).toEqual(["closed", "player-left"]);
    expect(s.setLate("player")).toBe(false);
    expect(s.markProven()).toBe(false);
    expect(s.state).toBe("closed");
  });

  it("pending: nothing changes it but start(), and only once; media is not judged before", () => {
    const streamer = new Peer("s", "streamer", "cam1", "t".repeat(32), transport, "node-b");
    const player = new Peer("p", "player", undefined, "u".repeat(32), transport);
    const s = new Session("id", streamer, player, 0, true);
    expect(s.state).toBe("pending");
    expect(s.link).toMatchObject({ node: "node-b", end: "streamer", late: false });
    expect(s.setLate("player")).toBe(false);
    expect(s.noteFramesDecoded(10)).toBe(false);
    expect(s.noteFramesDecoded(20)).toBe(false);
    expect(s.media).toBeUndefined();
    expect(s.state).toBe("pending");
    expect(s.start()).toBe(true);
    expect(s.start()).toBe(false);
    expect(s.state).toBe("connecting");
    expect(session().link).toBeUndefined();
  });

  it("a pending session closed before it started says so", () => {
    const streamer = new Peer("s", "streamer", "cam1", "t".repeat(32), transport, "node-b");
    const player = new Peer("p", "player", undefined, "u".repeat(32), transport);
    const s = new Session("id", streamer, player, 0, true);
    expect(s.close("unsubscribed")).toBe("pending");
    expect(s.start()).toBe(false);
  });

  it("knows its ends and nobody else", () => {
    const s = session();
    expect(s.endOf(s.streamer)).toBe("streamer");
    expect(s.endOf(s.player)).toBe("player");
    expect(s.endOf(new Peer("x", "player", undefined, "v".repeat(32), transport))).toBeUndefined();
    expect(s.peerAt("player")).toBe(s.player);
  });
});
