/**
 * The Agent's decisions under fake timers, with a fake hub connection and fake sessions (each
 * running a real MediaHeartbeat): resume after a dropped socket, live config changes, the
 * media-timeout ending, and exactly one `session closed` line per session.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { pino } from "pino";
import {
  PROTOCOL_VERSION,
  type ConfigMessage,
  type HubToStreamerMessage,
  type PingMessage,
  type StreamerToHubMessage,
} from "@heartline/shared";
import { Agent, type AgentSession } from "./Agent.js";
import { MediaHeartbeat } from "./heartbeat/MediaHeartbeat.js";
import type { HubClientHandlers, HubConnection, HubRetry } from "./hub/HubClient.js";
import type { PeerSessionOptions } from "./media/PeerSession.js";
import { AgentOptionsSchema } from "./options.js";
import { systemClock } from "@heartline/shared/timing";

type LogLine = Record<string, unknown>;

class FakeHub implements HubConnection {
  connected = false;
  retry: HubRetry | undefined;
  readonly sent: StreamerToHubMessage[] = [];
  constructor(private readonly handlers: HubClientHandlers) {}
  start(): void {}
  close(): void {
    this.connected = false;
  }
  send(message: StreamerToHubMessage): boolean {
    if (!this.connected) return false;
    this.sent.push(message);
    return true;
  }
  connect(): void {
    this.connected = true;
    this.handlers.onRegistered();
  }
  drop(resumable = true): void {
    this.connected = false;
    this.handlers.onDisconnected(resumable ? "transport close" : "io server disconnect", resumable);
  }
  deliver(message: HubToStreamerMessage): void {
    this.handlers.onMessage(message);
  }
  pings(sessionId?: string): PingMessage[] {
    return this.sent.filter(
      (m): m is PingMessage => m.type === "ping" && (sessionId === undefined || m.sessionId === sessionId),
    );
  }
}

/** Stands in for PeerSession: its data channel "opens" at once and the player answers pongs. */
class FakeSession implements AgentSession {
  readonly sessionId: string;
  closed = false;
  mediaPings = 0;
  answerMediaPings = true;
  private readonly heartbeat: MediaHeartbeat;
  constructor(private readonly options: PeerSessionOptions) {
    this.sessionId = options.sessionId;
    this.heartbeat = new MediaHeartbeat({
      settings: options.heartbeat,
      clock: systemClock,
      send: (text) => {
        this.mediaPings += 1;
        const { time } = JSON.parse(text) as { time: number };
        if (this.answerMediaPings) this.heartbeat.handleMessage(JSON.stringify({ type: "pong", time }));
      },
      // What PeerSession does when the media path dies.
      onTimeout: () => {
        options.send({ type: "endSession", sessionId: this.sessionId, reason: "media-timeout" });
        options.onMediaTimeout?.("test");
      },
    });
  }
  get mediaRttMs(): number | undefined {
    return this.heartbeat.rttMs;
  }
  /** As PeerSession: flowing when the player answers media pings. */
  checkMedia(): Promise<boolean> {
    return Promise.resolve(this.answerMediaPings && !this.closed);
  }
  start(): Promise<void> {
    this.heartbeat.start();
    return Promise.resolve();
  }
  applyAnswer(): Promise<void> {
    return Promise.resolve();
  }
  addRemoteCandidate(): Promise<void> {
    return Promise.resolve();
  }
  writeRtp(): void {}
  setHeartbeat(settings: { intervalMs: number; timeoutMs: number }): void {
    this.heartbeat.setSettings(settings);
  }
  close(): void {
    this.closed = true;
    this.heartbeat.stop();
  }
}

function config(intervalMs: number, resumeGraceMs = 3 * intervalMs): ConfigMessage {
  return {
    type: "config",
    protocolVersion: PROTOCOL_VERSION,
    peerId: "peer-1",
    heartbeat: { intervalMs, timeoutMs: 3 * intervalMs, staleAfterMs: 1.5 * intervalMs, resumeGraceMs },
    iceServers: [],
    resumeToken: "token-0123456789abcdef",
  };
}

describe("Agent", () => {
  let lines: LogLine[];
  let hub: FakeHub;
  let sessions: Map<string, FakeSession>;
  let agent: Agent;

  beforeEach(() => {
    vi.useFakeTimers({
      toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "performance"],
    });
    lines = [];
    sessions = new Map();
    const logger = pino(
      { level: "info" },
      { write: (line: string) => lines.push(JSON.parse(line) as LogLine) },
    );
    agent = new Agent(AgentOptionsSchema.parse({ id: "cam1" }), {
      logger,
      clock: systemClock,
      onFatal: () => undefined,
      createHub: (handlers) => (hub = new FakeHub(handlers)),
      createSession: (options) => {
        const session = new FakeSession(options);
        sessions.set(options.sessionId, session);
        return session;
      },
    });
  });
  afterEach(async () => {
    await agent.stop();
    vi.useRealTimers();
  });

  const closedLines = (sessionId?: string): LogLine[] =>
    lines.filter((l) => l.msg === "session closed" && (sessionId === undefined || l.sessionId === sessionId));
  const session = (sessionId: string): FakeSession => {
    const found = sessions.get(sessionId);
    if (!found) throw new Error(`no session ${sessionId}`);
    return found;
  };
  /** Connected, configured, with players in sessions s1 and s2. */
  function withTwoSessions(intervalMs = 1000): void {
    hub.connect();
    hub.deliver(config(intervalMs));
    hub.deliver({ type: "playerJoined", sessionId: "s1" });
    hub.deliver({ type: "playerJoined", sessionId: "s2" });
  }
  /** The hub answers every ping at once. */
  function answerPings(): void {
    for (const ping of hub.pings()) hub.deliver({ type: "pong", sessionId: ping.sessionId, time: ping.time });
  }

  describe("heartbeat data", () => {
    it("carries the signaling RTT after the first pong, the media RTT, and nothing unknown", () => {
      withTwoSessions();
      const first = hub.pings("s1")[0];
      expect(first).toBeDefined();
      expect(first?.rttMs).toBeUndefined();
      expect(first?.stats).toBeUndefined(); // The encoder sent nothing yet.
      vi.advanceTimersByTime(25);
      answerPings();
      vi.advanceTimersByTime(975);
      expect(hub.pings("s1").at(-1)).toMatchObject({ rttMs: 25, mediaRttMs: 0 });
    });

    it("logs the hub's session state changes", () => {
      withTwoSessions();
      hub.deliver({ type: "sessionState", sessionId: "s1", state: "stale", late: "player" });
      expect(lines.find((l) => l.msg === "session state")).toMatchObject({
        sessionId: "s1",
        state: "stale",
        late: "player",
      });
    });
  });

  describe("liveness questions and the goodbye", () => {
    it("answers a probe at once, from the message handler", () => {
      withTwoSessions();
      hub.deliver({ type: "probe", probeId: "p-1" });
      expect(hub.sent.at(-1)).toEqual({ type: "probeAck", probeId: "p-1" });
    });

    it("answers a media check with whether the player still answers over the data channel", async () => {
      withTwoSessions();
      hub.deliver({ type: "mediaCheck", sessionId: "s1", checkId: "c-1" });
      session("s2").answerMediaPings = false;
      hub.deliver({ type: "mediaCheck", sessionId: "s2", checkId: "c-2" });
      hub.deliver({ type: "mediaCheck", sessionId: "gone", checkId: "c-3" });
      await vi.waitFor(() => {
        expect(hub.sent.filter((m) => m.type === "mediaReport")).toHaveLength(3);
      });
      expect(hub.sent.filter((m) => m.type === "mediaReport")).toEqual([
        { type: "mediaReport", sessionId: "s1", checkId: "c-1", flowing: true },
        { type: "mediaReport", sessionId: "s2", checkId: "c-2", flowing: false },
        { type: "mediaReport", sessionId: "gone", checkId: "c-3", flowing: false },
      ]);
    });

    it("says goodbye before it disconnects when stopped", async () => {
      withTwoSessions();
      await agent.stop();
      expect(hub.sent.at(-1)).toEqual({ type: "bye" });
    });
  });

  describe("live config", () => {
    it("changes the cadence of both heartbeats of every session at once", () => {
      withTwoSessions(1000);
      vi.advanceTimersByTime(2000);
      expect(hub.pings("s1")).toHaveLength(3);
      expect(session("s1").mediaPings).toBe(3);

      hub.deliver(config(200));
      const [pingsBefore, mediaBefore] = [hub.pings("s2").length, session("s2").mediaPings];
      vi.advanceTimersByTime(1000);
      expect(hub.pings("s2").length - pingsBefore).toBe(5);
      expect(session("s2").mediaPings - mediaBefore).toBe(5);
    });
  });

  describe("resume", () => {
    it("keeps the sessions through a dropped socket and resumes exactly those the hub lists", () => {
      withTwoSessions(1000);
      hub.drop();
      vi.advanceTimersByTime(2500); // Within the grace period (3000).
      expect(closedLines()).toEqual([]);
      expect(session("s1").closed).toBe(false);
      // The media heartbeat keeps going peer to peer.
      expect(session("s1").mediaPings).toBe(3);

      const sentBefore = hub.sent.length;
      hub.connect();
      hub.deliver(config(1000));
      // Nothing is pinged until the hub says which sessions survived.
      expect(hub.sent.length).toBe(sentBefore);
      hub.deliver({ type: "resumed", sessionIds: ["s1"] });

      expect(closedLines()).toEqual([
        expect.objectContaining({ sessionId: "s2", reason: "streamer-left", detail: "not resumed" }),
      ]);
      expect(session("s2").closed).toBe(true);
      expect(session("s1").closed).toBe(false);
      expect(agent.sessionIds).toEqual(["s1"]);
      expect(hub.sent.slice(sentBefore)).toEqual([
        expect.objectContaining({ type: "ping", sessionId: "s1" }),
      ]);
      vi.advanceTimersByTime(1000);
      expect(hub.pings("s1").length).toBeGreaterThan(1);
      expect(hub.pings("s2").every((p) => p.time < 2500)).toBe(true);
    });

    it("closes every session once the grace period has passed without a reconnect", () => {
      withTwoSessions(1000);
      hub.drop();
      vi.advanceTimersByTime(3000 + 999);
      expect(closedLines()).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(closedLines().map((l) => [l.sessionId, l.reason])).toEqual([
        ["s1", "streamer-left"],
        ["s2", "streamer-left"],
      ]);
      // A late reconnect gets an empty list: nothing more to close, nothing logged twice.
      hub.connect();
      hub.deliver(config(1000));
      hub.deliver({ type: "resumed", sessionIds: [] });
      expect(closedLines()).toHaveLength(2);
    });

    it("closes every session when a restarted hub resumes none", () => {
      withTwoSessions(1000);
      hub.drop();
      hub.connect();
      hub.deliver(config(1000));
      hub.deliver({ type: "resumed", sessionIds: [] });
      expect(closedLines().map((l) => l.detail)).toEqual(["not resumed", "not resumed"]);
      expect(agent.sessionIds).toEqual([]);
    });

    it("closes the sessions if a reconnected hub never says which resumed", () => {
      withTwoSessions(1000);
      hub.drop();
      hub.connect();
      hub.deliver(config(1000));
      vi.advanceTimersByTime(1999);
      expect(closedLines()).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(closedLines()).toHaveLength(2);
      // Pinging goes on for sessions opened from now on.
      hub.deliver({ type: "playerJoined", sessionId: "s3" });
      expect(hub.pings("s3")).toHaveLength(1);
    });

    it("closes every session at once when the hub ends the connection on purpose", () => {
      withTwoSessions(1000);
      hub.drop(false);
      expect(closedLines().map((l) => l.reason)).toEqual(["streamer-left", "streamer-left"]);
    });

    it("pings a fresh connection's new sessions as before", () => {
      hub.connect();
      hub.deliver(config(500));
      hub.deliver({ type: "resumed", sessionIds: [] });
      hub.deliver({ type: "playerJoined", sessionId: "s1" });
      vi.advanceTimersByTime(500);
      expect(hub.pings("s1")).toHaveLength(2);
    });
  });

  describe("media timeout", () => {
    it("sends endSession and closes once on the hub's sessionClosed", () => {
      withTwoSessions(1000);
      session("s1").answerMediaPings = false;
      vi.advanceTimersByTime(3000);
      expect(hub.sent.filter((m) => m.type === "endSession")).toEqual([
        { type: "endSession", sessionId: "s1", reason: "media-timeout" },
      ]);
      hub.deliver({ type: "sessionClosed", sessionId: "s1", reason: "media-timeout" });
      vi.advanceTimersByTime(5000);
      expect(closedLines("s1")).toEqual([expect.objectContaining({ reason: "media-timeout" })]);
      expect(closedLines("s2")).toEqual([]);
    });

    it("closes the session itself if the hub does not answer, and logs it only once", () => {
      withTwoSessions(1000);
      session("s1").answerMediaPings = false;
      vi.advanceTimersByTime(3000);
      expect(closedLines("s1")).toEqual([]);
      vi.advanceTimersByTime(2000);
      expect(closedLines("s1")).toEqual([expect.objectContaining({ reason: "media-timeout" })]);
      expect(session("s1").closed).toBe(true);
      hub.deliver({ type: "sessionClosed", sessionId: "s1", reason: "media-timeout" });
      expect(closedLines("s1")).toHaveLength(1);
    });
  });

  it("still logs the hub's sessionClosed for a session it had already released", () => {
    withTwoSessions(1000);
    hub.deliver({ type: "error", code: "session-not-found", message: "gone", sessionId: "s1" });
    expect(session("s1").closed).toBe(true);
    hub.deliver({ type: "sessionClosed", sessionId: "s1", reason: "player-heartbeat-timeout" });
    hub.deliver({ type: "sessionClosed", sessionId: "s1", reason: "player-heartbeat-timeout" });
    expect(closedLines("s1")).toEqual([expect.objectContaining({ reason: "player-heartbeat-timeout" })]);
  });

  it("reports the hub URL and when the next attempt is, for the status line", () => {
    expect(agent.status()).toMatchObject({
      hub: "connecting",
      hubUrl: "http://127.0.0.1:8080",
      retry: undefined,
    });
    hub.retry = { at: performance.now() + 4_000, code: "unauthorized" };
    vi.advanceTimersByTime(1_500);
    expect(agent.status().retry).toEqual({ inMs: 2_500, code: "unauthorized" });
    hub.connect();
    expect(agent.status()).toMatchObject({ hub: "connected", retry: undefined });
  });
});
