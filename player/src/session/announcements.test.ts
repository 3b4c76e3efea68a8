import type { HubToPlayerMessage, PlayerToHubMessage } from "@heartline/shared";
import { FakeClock } from "@heartline/shared/testing";
import { describe, expect, it } from "vitest";
import type { Peer, PeerEvents } from "../peer/player-peer.js";
import { explainState } from "../words/explain-state.js";
import { PlayerSession, type SessionObserver } from "./player-session.js";

class FakePeer implements Peer {
  closed = false;
  constructor(readonly events: PeerEvents) {}
  get pc(): RTCPeerConnection | null {
    return null;
  }
  answer(offerSdp: string): Promise<string> {
    return Promise.resolve(`answer to ${offerSdp}`);
  }
  addRemoteCandidate(): void {
    // not needed here
  }
  readReceiveStats() {
    return Promise.resolve(null);
  }
  close(): void {
    this.closed = true;
  }
}

const config = {
  type: "config",
  protocolVersion: 1,
  peerId: "p1",
  heartbeat: { intervalMs: 1000, timeoutMs: 3000, staleAfterMs: 1500, resumeGraceMs: 3000 },
  iceServers: [],
  resumeToken: "resume-token-0123456789",
} satisfies HubToPlayerMessage;
const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

function setup() {
  const sent: PlayerToHubMessage[] = [];
  const peers: FakePeer[] = [];
  const heard: string[] = [];
  const observer: SessionObserver = {
    stateChanged: (view, previous) =>
      heard.push(`${previous}->${view.state}: ${explainState(view, "https://site")}`),
    sessionStarted: (s) => heard.push(`start ${s.sessionId}`),
    sessionEnded: (s) => heard.push(`end ${s.sessionId} ${s.reason}`),
    problem: (p) => heard.push(`problem ${p.code}`),
  };
  const session = new PlayerSession({
    link: { send: (m) => sent.push(m) },
    createPeer: (_servers, events) => {
      const peer = new FakePeer(events);
      peers.push(peer);
      return peer;
    },
    video: { show: () => undefined, clear: () => undefined },
    clock: new FakeClock(),
    wantedStreamerId: "cam1",
    initialState: "disconnected",
    observer,
  });
  return { session, sent, peers, heard };
}

describe("PlayerSession announcements", () => {
  it("announces every state change with its reason in words, and the session's start and end", async () => {
    const { session, peers, heard } = setup();
    session.starting();
    session.hubConnected();
    session.handle(config);
    session.handle({ type: "streamerList", streamers: [{ streamerId: "cam1", players: 0 }] });
    session.handle({ type: "sessionStarted", sessionId: "s1", streamerId: "cam1" });
    session.handle({ type: "offer", sessionId: "s1", sdp: "offer" });
    await flush();
    peers[0]?.events.connectionStateChange("connected");
    session.handle({ type: "sessionClosed", sessionId: "s1", reason: "streamer-heartbeat-timeout" });
    expect(heard).toEqual([
      "disconnected->connecting: Connecting to the hub.",
      "connecting->waiting: “cam1” is not streaming right now; the video starts as soon as it is.",
      "waiting->negotiating: Setting up the stream from cam1.",
      "start s1",
      "negotiating->live: Playing cam1 live.",
      "end s1 streamer-heartbeat-timeout",
      "live->ended: The streamer stopped responding (no heartbeat for 3 s).",
    ]);
    expect(peers[0]?.closed).toBe(true);
  });

  it("a view is a frozen snapshot: it does not change under the reader, and cannot be written", () => {
    const { session } = setup();
    const before = session.view;
    session.starting();
    expect(before.state).toBe("disconnected");
    expect(session.view.state).toBe("connecting");
    expect(Object.isFrozen(before)).toBe(true);
  });

  it("stop() ends the session as disconnected and drops everything of the attempt", async () => {
    const { session, peers, heard } = setup();
    session.starting();
    session.hubConnected();
    session.handle(config);
    session.handle({ type: "streamerList", streamers: [{ streamerId: "cam1", players: 0 }] });
    session.handle({ type: "sessionStarted", sessionId: "s1", streamerId: "cam1" });
    session.handle({ type: "offer", sessionId: "s1", sdp: "offer" });
    await flush();
    peers[0]?.events.connectionStateChange("connected");
    heard.length = 0;
    session.stop();
    expect(heard).toEqual([
      "end s1 disconnected",
      "live->disconnected: Not connected to the hub (disconnect() was called, or connect() not yet).",
    ]);
    expect(peers[0]?.closed).toBe(true);
    expect(session.view.sessionId).toBeNull();
    // A late socket event of the closed connection changes nothing.
    session.hubDisconnected();
    expect(session.view.state).toBe("disconnected");
  });

  it("a refused origin is a state with the refusal in words", () => {
    const { session, heard } = setup();
    session.starting();
    session.hubRefused("origin-not-allowed");
    expect(heard.at(-1)).toBe(
      "connecting->refused: This player is not allowed to connect: the hub does not accept players on https://site. Ask the operator for a new link.",
    );
    expect(session.view.refusal).toBe("origin-not-allowed");
  });
});
