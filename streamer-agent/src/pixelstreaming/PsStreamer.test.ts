import { pino } from "pino";
import { describe, expect, it, vi } from "vitest";
import { PsStreamerMessageSchema } from "@heartline/shared/pixelstreaming";
import type { AgentSession } from "../Agent.js";
import type { ChannelSessionOptions } from "../media/PeerSession.js";
import { AgentOptionsSchema } from "../options.js";
import type { PsOutbound } from "./messages.js";
import { PsStreamer, type PsConnection } from "./PsStreamer.js";
import type { PsStreamerClientHandlers } from "./PsStreamerClient.js";

/** Stands in for werift: the offer's candidates are "gathered" before the offer, as werift does. */
class FakeSession implements AgentSession {
  readonly sessionId: string;
  closed = false;
  answers: string[] = [];
  candidates: string[] = [];
  constructor(readonly options: ChannelSessionOptions) {
    this.sessionId = options.sessionId;
  }
  get mediaRttMs(): undefined {
    return undefined;
  }
  checkMedia(): Promise<boolean> {
    return Promise.resolve(false);
  }
  start(): Promise<void> {
    const candidate = {
      candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host",
      sdpMid: "0",
      sdpMLineIndex: 0,
    };
    this.options.send({ type: "iceCandidate", sessionId: this.sessionId, candidate });
    this.options.send({ type: "offer", sessionId: this.sessionId, sdp: "v=0\r\na=ice-ufrag:abcd\r\n" });
    return Promise.resolve();
  }
  applyAnswer(sdp: string): Promise<void> {
    this.answers.push(sdp);
    return Promise.resolve();
  }
  addRemoteCandidate(candidate: { candidate: string }): Promise<void> {
    this.candidates.push(candidate.candidate);
    return Promise.resolve();
  }
  writeRtp(): void {}
  setHeartbeat(): void {}
  close(): void {
    this.closed = true;
  }
}

function setup() {
  const sent: PsOutbound[] = [];
  const sessions: FakeSession[] = [];
  let handlers: PsStreamerClientHandlers | undefined;
  const client: PsConnection = {
    start: vi.fn(),
    close: vi.fn(),
    send: (message) => {
      sent.push(message);
      return true;
    },
    state: "identified",
    retry: undefined,
    rttMs: undefined,
    streamerId: "DefaultStreamer",
  };
  const streamer = new PsStreamer(
    AgentOptionsSchema.parse({ protocol: "pixelstreaming", id: "DefaultStreamer" }),
    {
      logger: pino({ level: "silent" }),
      onFatal: vi.fn(),
      createClient: (h) => {
        handlers = h;
        return client;
      },
      createSession: (options) => {
        const session = new FakeSession(options);
        sessions.push(session);
        return session;
      },
    },
  );
  if (!handlers) throw new Error("no client created");
  return { streamer, sent, sessions, handlers };
}

describe("PsStreamer (the agent as a Pixel Streaming streamer)", () => {
  it("offers each connected player its own peer connection with Unreal's data channel, by playerId", () => {
    const { streamer, sent, sessions, handlers } = setup();
    handlers.onMessage({
      type: "config",
      peerConnectionOptions: {
        iceServers: [{ urls: ["turn:127.0.0.1:3478"], username: "u", credential: "c" }],
      },
    });
    handlers.onMessage({ type: "playerConnected", playerId: "Player0" });
    expect(streamer.playerIds).toEqual(["Player0"]);
    expect(sessions[0]?.options.channel.label).toBe("datachannel");
    expect(sessions[0]?.options.iceServers).toEqual([
      { urls: ["turn:127.0.0.1:3478"], username: "u", credential: "c" },
    ]);
    // The candidate werift gathered first goes out after the offer, with the offer's ufrag.
    expect(sent).toEqual([
      { type: "offer", sdp: "v=0\r\na=ice-ufrag:abcd\r\n", playerId: "Player0" },
      {
        type: "iceCandidate",
        candidate: {
          candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host",
          sdpMid: "0",
          sdpMLineIndex: 0,
          usernameFragment: "abcd",
        },
        playerId: "Player0",
      },
    ]);
    // What the hub's Pixel Streaming endpoint accepts from a streamer.
    for (const message of sent) expect(PsStreamerMessageSchema.safeParse(message).success).toBe(true);
  });

  it("applies answers and candidates to the named player only, and closes it on playerDisconnected", () => {
    const { streamer, sessions, handlers } = setup();
    handlers.onMessage({ type: "playerConnected", playerId: "Player0" });
    handlers.onMessage({ type: "playerConnected", playerId: "Player1" });
    handlers.onMessage({ type: "answer", playerId: "Player1", sdp: "answer-1" });
    handlers.onMessage({
      type: "iceCandidate",
      playerId: "Player1",
      candidate: { candidate: "candidate:2 1 udp 1 127.0.0.1 6000 typ host", sdpMid: "0", sdpMLineIndex: 0 },
    });
    handlers.onMessage({ type: "answer", playerId: "Nobody", sdp: "ignored" });
    expect(sessions[0]?.answers).toEqual([]);
    expect(sessions[1]?.answers).toEqual(["answer-1"]);
    expect(sessions[1]?.candidates).toHaveLength(1);
    handlers.onMessage({ type: "playerDisconnected", playerId: "Player0" });
    expect(sessions[0]?.closed).toBe(true);
    expect(streamer.playerIds).toEqual(["Player1"]);
  });

  it("renegotiates a player that connects again, and drops every peer when the signalling socket closes", () => {
    const { streamer, sessions, handlers } = setup();
    handlers.onMessage({ type: "playerConnected", playerId: "Player0" });
    handlers.onMessage({ type: "playerConnected", playerId: "Player0" });
    expect(sessions).toHaveLength(2);
    expect(sessions[0]?.closed).toBe(true);
    handlers.onMessage({ type: "playerConnected", playerId: "Player1" });
    handlers.onDisconnected({ code: 1006, reason: "" });
    expect(sessions.every((session) => session.closed)).toBe(true);
    expect(streamer.playerIds).toEqual([]);
    expect(streamer.status().hub).toBe("connected");
  });
});
