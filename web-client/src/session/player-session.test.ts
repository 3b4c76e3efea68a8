import type { HubToPlayerMessage, IceCandidateInit, PlayerToHubMessage } from "@heartline/shared";
import { beforeEach, describe, expect, it } from "vitest";
import type { Peer, PeerEvents } from "../peer/player-peer.js";
import type { Clock } from "./clock.js";
import { PlayerSession } from "./player-session.js";

/** Timers that run only when the test advances the clock. */
class FakeClock implements Clock {
  private time = 0;
  private nextHandle = 1;
  private readonly timers = new Map<number, { at: number; callback: () => void }>();
  now(): number {
    return this.time;
  }
  setTimeout(callback: () => void, ms: number): number {
    const handle = this.nextHandle++;
    this.timers.set(handle, { at: this.time + ms, callback });
    return handle;
  }
  clearTimeout(handle: number): void {
    this.timers.delete(handle);
  }
  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      const due = [...this.timers].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.time = due[1].at;
      due[1].callback();
    }
    this.time = until;
  }
}

class FakePeer implements Peer {
  closed = false;
  offers: string[] = [];
  candidates: IceCandidateInit[] = [];
  /** Every offer and candidate in the order the peer was given them. */
  calls: string[] = [];
  constructor(readonly events: PeerEvents) {}
  get pc(): RTCPeerConnection | null {
    return null;
  }
  answer(offerSdp: string): Promise<string> {
    this.offers.push(offerSdp);
    this.calls.push(`offer ${offerSdp}`);
    return Promise.resolve(`answer to ${offerSdp}`);
  }
  addRemoteCandidate(candidate: IceCandidateInit): void {
    this.candidates.push(candidate);
    this.calls.push(`candidate ${candidate.candidate}`);
  }
  close(): void {
    this.closed = true;
  }
}

const config: HubToPlayerMessage = {
  type: "config",
  protocolVersion: 1,
  peerId: "p1",
  heartbeat: { intervalMs: 1000, timeoutMs: 3000 },
  iceServers: [],
};
const listed = (...ids: string[]): HubToPlayerMessage => ({
  type: "streamerList",
  streamers: ids.map((streamerId) => ({ streamerId, players: 0 })),
});
const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("PlayerSession", () => {
  let sent: PlayerToHubMessage[];
  let peers: FakePeer[];
  let clock: FakeClock;
  let shown: number;
  let session: PlayerSession;

  const make = (wantedStreamerId: string | null) => {
    session = new PlayerSession({
      link: { send: (m) => sent.push(m) },
      createPeer: (_servers, events) => {
        const peer = new FakePeer(events);
        peers.push(peer);
        return peer;
      },
      video: { show: () => (shown += 1), clear: () => undefined },
      clock,
      wantedStreamerId,
    });
    session.hubConnected();
    session.handle(config);
  };

  const startSession = async (sessionId: string, streamerId = "cam1") => {
    session.handle({ type: "sessionStarted", sessionId, streamerId });
    session.handle({ type: "offer", sessionId, sdp: `offer ${sessionId}` });
    await flush();
    peers.at(-1)?.events.connectionStateChange("connected");
  };

  beforeEach(() => {
    sent = [];
    peers = [];
    clock = new FakeClock();
    shown = 0;
  });

  it("asks for the streamer list once the hub's config arrives", () => {
    make(null);
    expect(session.state).toBe("waiting");
    expect(sent).toEqual([{ type: "listStreamers" }]);
  });

  it("subscribes to the only streamer listed and waits when none is", () => {
    make(null);
    session.handle(listed());
    expect(session.state).toBe("waiting");
    session.handle(listed("cam1"));
    expect(sent.at(-1)).toEqual({ type: "subscribe", streamerId: "cam1" });
    expect(session.state).toBe("negotiating");
  });

  it("subscribes only to the streamer named in the URL", () => {
    make("cam2");
    session.handle(listed("cam1"));
    expect(sent).not.toContainEqual(expect.objectContaining({ type: "subscribe" }));
    expect(session.choice).toEqual({ kind: "wait", streamerId: "cam2" });
    session.handle(listed("cam1", "cam2"));
    expect(sent.at(-1)).toEqual({ type: "subscribe", streamerId: "cam2" });
  });

  it("offers a choice instead of subscribing when several are listed and none is named", () => {
    make(null);
    session.handle(listed("b", "a"));
    expect(session.choice).toEqual({ kind: "pick", streamerIds: ["a", "b"] });
    expect(session.state).toBe("waiting");
  });

  it("answers the offer, trickles candidates both ways and goes live", async () => {
    make(null);
    session.handle(listed("cam1"));
    session.handle({ type: "sessionStarted", sessionId: "s1", streamerId: "cam1" });
    session.handle({ type: "offer", sessionId: "s1", sdp: "v=0 offer" });
    session.handle({ type: "iceCandidate", sessionId: "s1", candidate: { candidate: "candidate:1" } });
    await flush();
    expect(sent).toContainEqual({ type: "answer", sessionId: "s1", sdp: "answer to v=0 offer" });
    expect(peers[0]?.candidates).toEqual([{ candidate: "candidate:1" }]);

    peers[0]?.events.localCandidate({ candidate: "candidate:2", sdpMid: "0", sdpMLineIndex: 0 });
    expect(sent.at(-1)).toEqual({
      type: "iceCandidate",
      sessionId: "s1",
      candidate: { candidate: "candidate:2", sdpMid: "0", sdpMLineIndex: 0 },
    });
    peers[0]?.events.remoteStream({} as MediaStream);
    expect(shown).toBe(1);
    peers[0]?.events.connectionStateChange("connected");
    expect(session.state).toBe("live");
  });

  it("applies candidates that arrive before the offer after the offer", async () => {
    make(null);
    session.handle(listed("cam1"));
    session.handle({ type: "sessionStarted", sessionId: "s1", streamerId: "cam1" });
    session.handle({ type: "iceCandidate", sessionId: "s1", candidate: { candidate: "candidate:early" } });
    session.handle({ type: "offer", sessionId: "s1", sdp: "v=0 offer" });
    session.handle({ type: "iceCandidate", sessionId: "s1", candidate: { candidate: "candidate:late" } });
    await flush();
    expect(peers[0]?.calls).toEqual([
      "offer v=0 offer",
      "candidate candidate:early",
      "candidate candidate:late",
    ]);
  });

  it("answers every ping at once with its time unchanged, and only for its own session", async () => {
    make(null);
    session.handle(listed("cam1"));
    await startSession("s1");
    clock.advance(500);
    session.handle({ type: "ping", sessionId: "s1", time: 123.456 });
    expect(sent.at(-1)).toEqual({ type: "pong", sessionId: "s1", time: 123.456 });
    expect(session.pingsReceived).toBe(1);
    expect(session.lastPingAt).toBe(500);

    const before = sent.length;
    session.handle({ type: "ping", sessionId: "other", time: 1 });
    expect(sent.length).toBe(before);
  });

  it("closes the peer on sessionClosed and resubscribes once the streamer is listed again", async () => {
    make(null);
    session.handle(listed("cam1"));
    await startSession("s1");
    session.handle({ type: "sessionClosed", sessionId: "s1", reason: "streamer-left" });
    expect(session.state).toBe("ended");
    expect(session.closeReason).toBe("streamer-left");
    expect(session.sessionId).toBeNull();
    expect(peers[0]?.closed).toBe(true);

    session.handle(listed()); // pushed when the streamer left
    clock.advance(1000); // the retry asks for a fresh list
    expect(sent.at(-1)).toEqual({ type: "listStreamers" });
    session.handle(listed());
    expect(session.state).toBe("ended");

    session.handle(listed("cam1")); // pushed when it registers again
    expect(sent.at(-1)).toEqual({ type: "subscribe", streamerId: "cam1" });
    expect(session.state).toBe("negotiating");
  });

  it("backs off when sessions keep ending early instead of resubscribing in a loop", async () => {
    make(null);
    session.handle(listed("cam1"));
    const delays: (number | null)[] = [];
    for (let i = 1; i <= 4; i++) {
      await startSession(`s${i}`);
      session.handle({ type: "sessionClosed", sessionId: `s${i}`, reason: "streamer-heartbeat-timeout" });
      delays.push(session.retryAt === null ? null : session.retryAt - clock.now());
      session.handle(listed("cam1")); // a push during the hold changes nothing
      expect(sent.filter((m) => m.type === "subscribe")).toHaveLength(i);
      clock.advance(60_000);
      session.handle(listed("cam1")); // the answer to the retry's listStreamers
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000]);
    expect(sent.filter((m) => m.type === "subscribe")).toHaveLength(5);
  });

  it("waits, then retries, when the hub says the streamer is not live", () => {
    make(null);
    session.handle(listed("cam1"));
    session.handle({ type: "error", code: "streamer-not-found", message: "no such streamer" });
    expect(session.state).toBe("waiting");
    expect(session.notice).toMatch(/not live/);
    clock.advance(1000);
    expect(sent.at(-1)).toEqual({ type: "listStreamers" });
  });

  it("drops the session when the hub becomes unreachable and starts over on reconnect", async () => {
    make(null);
    session.handle(listed("cam1"));
    await startSession("s1");
    session.hubDisconnected();
    expect(session.state).toBe("offline");
    expect(peers[0]?.closed).toBe(true);
    session.handle({ type: "ping", sessionId: "s1", time: 1 });
    expect(sent.at(-1)).not.toMatchObject({ type: "pong" });

    session.hubConnected();
    expect(session.state).toBe("connecting");
    session.handle(config);
    expect(sent.at(-1)).toEqual({ type: "listStreamers" });
  });

  it("unsubscribes when the media connection fails, so the hub's sessionClosed starts a retry", async () => {
    make(null);
    session.handle(listed("cam1"));
    await startSession("s1");
    peers[0]?.events.connectionStateChange("failed");
    expect(sent.at(-1)).toEqual({ type: "unsubscribe", sessionId: "s1" });
  });
});
