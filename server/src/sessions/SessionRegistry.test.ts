/** The registry's teardown cannot be broken by whoever watches it. */
import { describe, expect, it } from "vitest";
import pino from "pino";
import type { PeerMessage } from "./Peer.js";
import { FakeClock } from "@heartline/shared/testing";
import { SessionRegistry } from "./SessionRegistry.js";

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
