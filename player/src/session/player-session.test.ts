import type {
  HubToPlayerMessage,
  IceCandidateInit,
  PlayerToHubMessage,
  ReceiveStats,
} from "@heartline/shared";
import { FakeClock } from "@heartline/shared/testing";
import { beforeEach, describe, expect, it } from "vitest";
import type { Peer, PeerEvents } from "../peer/player-peer.js";
import type { ReceiveReading, VideoFigures } from "../peer/receive-stats.js";
import { PlayerSession, RESUME_SLACK_MS, STABLE_SESSION_MS, STATS_SAMPLE_MS } from "./player-session.js";
import { MEDIA_CHECK_DRAIN_MS, MEDIA_CHECK_WINDOW_MS } from "./subscription.js";

class FakePeer implements Peer {
  closed = false;
  offers: string[] = [];
  candidates: IceCandidateInit[] = [];
  /** Every offer and candidate in the order the peer was given them. */
  calls: string[] = [];
  /** What the next `readReceiveStats()` resolves with. */
  stats: ReceiveStats | null = null;
  /** The display figures that come with `stats`. */
  video: VideoFigures = { width: 640, height: 360, bitrateKbps: 800, codec: "video/VP8" };
  /** Media bytes received so far (null: a browser that does not report them). */
  bytesReceived: number | null = null;
  statsReads = 0;
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
  readReceiveStats(): Promise<ReceiveReading | null> {
    this.statsReads += 1;
    return Promise.resolve(
      this.closed || this.stats === null
        ? null
        : { stats: this.stats, video: this.video, bytesReceived: this.bytesReceived },
    );
  }
  close(): void {
    this.closed = true;
  }
}

const RESUME_GRACE_MS = 3000;
const config = {
  type: "config",
  protocolVersion: 1,
  peerId: "p1",
  heartbeat: { intervalMs: 1000, timeoutMs: 3000, staleAfterMs: 1500, resumeGraceMs: RESUME_GRACE_MS },
  iceServers: [],
  resumeToken: "resume-token-0123456789",
} satisfies HubToPlayerMessage;
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

  describe("liveness questions", () => {
    it("answers a probe at once, from the message handler", () => {
      make(null);
      session.handle({ type: "probe", probeId: "p-7" });
      expect(sent.at(-1)).toEqual({ type: "probeAck", probeId: "p-7" });
    });

    it("reports media flowing only when frames are decoded after the drain, or a media ping arrives", async () => {
      make(null);
      session.handle(listed("cam1"));
      await startSession("s1");
      const peer = peers.at(-1);
      if (!peer) throw new Error("no peer");
      const stats = (framesDecoded: number): ReceiveStats => ({
        framesDecoded,
        fps: 30,
        jitterMs: 1,
        packetsLost: 0,
      });
      const check = async (checkId: string, during: () => void): Promise<unknown> => {
        peer.stats = stats(100);
        session.handle({ type: "mediaCheck", sessionId: "s1", checkId });
        clock.advance(MEDIA_CHECK_DRAIN_MS);
        await flush();
        during();
        clock.advance(MEDIA_CHECK_WINDOW_MS);
        await flush();
        await flush();
        return sent.find((m) => m.type === "mediaReport" && m.checkId === checkId);
      };
      expect(await check("frozen", () => undefined)).toEqual({
        type: "mediaReport",
        sessionId: "s1",
        checkId: "frozen",
        flowing: false,
      });
      expect(await check("frames", () => (peer.stats = stats(115)))).toMatchObject({ flowing: true });
      expect(
        await check("ping", () => {
          peer.events.mediaPing({ type: "ping", time: 1 });
        }),
      ).toMatchObject({ flowing: true });
      // Where bytes are reported they decide: frames decoded from the jitter buffer of a
      // streamer that is gone are not media arriving.
      peer.bytesReceived = 5000;
      expect(await check("buffered", () => (peer.stats = stats(115)))).toMatchObject({ flowing: false });
      expect(
        await check("bytes", () => {
          peer.bytesReceived = 6200;
        }),
      ).toMatchObject({ flowing: true });
      // A session this player does not have: nothing arrives from it.
      session.handle({ type: "mediaCheck", sessionId: "other", checkId: "x" });
      await flush();
      expect(sent.at(-1)).toEqual({ type: "mediaReport", sessionId: "other", checkId: "x", flowing: false });
    });
  });

  it("asks for the streamer list once the hub's config arrives", () => {
    make(null);
    expect(session.view.state).toBe("waiting");
    expect(sent).toEqual([{ type: "listStreamers" }]);
  });

  it("subscribes to the only streamer listed and waits when none is", () => {
    make(null);
    session.handle(listed());
    expect(session.view.state).toBe("waiting");
    session.handle(listed("cam1"));
    expect(sent.at(-1)).toEqual({ type: "subscribe", streamerId: "cam1" });
    expect(session.view.state).toBe("negotiating");
  });

  it("subscribes only to the streamer named in the URL", () => {
    make("cam2");
    session.handle(listed("cam1"));
    expect(sent).not.toContainEqual(expect.objectContaining({ type: "subscribe" }));
    expect(session.view.choice).toEqual({ kind: "wait", streamerId: "cam2" });
    session.handle(listed("cam1", "cam2"));
    expect(sent.at(-1)).toEqual({ type: "subscribe", streamerId: "cam2" });
  });

  it("offers a choice instead of subscribing when several are listed and none is named", () => {
    make(null);
    session.handle(listed("b", "a"));
    expect(session.view.choice).toEqual({ kind: "pick", streamerIds: ["a", "b"] });
    expect(session.view.state).toBe("waiting");
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
    expect(session.view.state).toBe("live");
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
    expect(session.view.pingsReceived).toBe(1);
    expect(session.view.lastPingAt).toBe(500);

    const before = sent.length;
    session.handle({ type: "ping", sessionId: "other", time: 1 });
    expect(sent.length).toBe(before);
  });

  it("closes the peer on sessionClosed and resubscribes once the streamer is listed again", async () => {
    make(null);
    session.handle(listed("cam1"));
    await startSession("s1");
    session.handle({ type: "sessionClosed", sessionId: "s1", reason: "streamer-left" });
    expect(session.view.state).toBe("ended");
    expect(session.view.closeReason).toBe("streamer-left");
    expect(session.view.sessionId).toBeNull();
    expect(peers[0]?.closed).toBe(true);

    session.handle(listed()); // pushed when the streamer left
    clock.advance(1000); // the retry asks for a fresh list
    expect(sent.at(-1)).toEqual({ type: "listStreamers" });
    session.handle(listed());
    expect(session.view.state).toBe("ended");

    session.handle(listed("cam1")); // pushed when it registers again
    expect(sent.at(-1)).toEqual({ type: "subscribe", streamerId: "cam1" });
    expect(session.view.state).toBe("negotiating");
  });

  it("backs off when sessions keep ending early instead of resubscribing in a loop", async () => {
    make(null);
    session.handle(listed("cam1"));
    const delays: (number | null)[] = [];
    for (let i = 1; i <= 4; i++) {
      await startSession(`s${i}`);
      session.handle({ type: "sessionClosed", sessionId: `s${i}`, reason: "streamer-heartbeat-timeout" });
      delays.push(session.view.retryAt === null ? null : session.view.retryAt - clock.now());
      session.handle(listed("cam1")); // a push during the hold changes nothing
      expect(sent.filter((m) => m.type === "subscribe")).toHaveLength(i);
      clock.advance(60_000);
      session.handle(listed("cam1")); // the answer to the retry's listStreamers
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000]);
    expect(sent.filter((m) => m.type === "subscribe")).toHaveLength(5);
  });

  it("starts the backoff again from 1 s after a session that stayed live long enough", async () => {
    make(null);
    session.handle(listed("cam1"));
    const endAfter = async (sessionId: string, liveMs: number): Promise<number | null> => {
      await startSession(sessionId);
      clock.advance(liveMs);
      session.handle({ type: "sessionClosed", sessionId, reason: "streamer-heartbeat-timeout" });
      const delay = session.view.retryAt === null ? null : session.view.retryAt - clock.now();
      clock.advance(60_000);
      session.handle(listed("cam1"));
      return delay;
    };
    expect(await endAfter("s1", 0)).toBe(1000);
    expect(await endAfter("s2", STABLE_SESSION_MS - 1)).toBe(2000);
    expect(await endAfter("s3", STABLE_SESSION_MS)).toBe(1000);
    expect(await endAfter("s4", 0)).toBe(2000);
  });

  it("waits, then retries, when the hub says the streamer is not live", () => {
    make(null);
    session.handle(listed("cam1"));
    session.handle({ type: "error", code: "streamer-not-found", message: "no such streamer" });
    expect(session.view.state).toBe("waiting");
    expect(session.view.notice).toMatch(/not live/);
    clock.advance(1000);
    expect(sent.at(-1)).toEqual({ type: "listStreamers" });
  });

  it("says a full stream is full, with its viewer count, and retries with backoff", () => {
    make(null);
    session.handle({ type: "streamerList", streamers: [{ streamerId: "cam1", players: 12 }] });
    session.handle({ type: "error", code: "streamer-full", message: "streamer is full" });
    expect(session.view.state).toBe("waiting");
    expect(session.view.notice).toBe("This stream is full (12 viewers).");
    expect(session.view.retryAt).toBe(clock.now() + 1000);
    clock.advance(1000);
    expect(sent.at(-1)).toEqual({ type: "listStreamers" });
    session.handle({ type: "streamerList", streamers: [{ streamerId: "cam1", players: 12 }] });
    session.handle({ type: "error", code: "streamer-full", message: "streamer is full" });
    expect(session.view.retryAt).toBe(clock.now() + 2000);
  });

  it("explains too-many-subscriptions and retries later", () => {
    make(null);
    session.handle(listed("cam1"));
    session.handle({ type: "error", code: "too-many-subscriptions", message: "limit" });
    expect(session.view.state).toBe("waiting");
    expect(session.view.notice).toMatch(/as many streams as the hub allows/);
    expect(session.view.retryAt).not.toBeNull();
  });

  it("does not come back by itself after an operator kicked the session, only on retryNow()", async () => {
    make(null);
    session.handle(listed("cam1"));
    await startSession("s1");
    session.handle({ type: "sessionClosed", sessionId: "s1", reason: "kicked" });
    expect(session.view.state).toBe("ended");
    expect(session.view.paused).toBe(true);
    expect(session.view.retryAt).toBeNull();
    clock.advance(60_000);
    session.handle(listed("cam1"));
    expect(sent.filter((m) => m.type === "subscribe")).toHaveLength(1);

    session.retryNow();
    expect(sent.at(-1)).toEqual({ type: "listStreamers" });
    session.handle(listed("cam1"));
    expect(sent.at(-1)).toEqual({ type: "subscribe", streamerId: "cam1" });
  });

  it("does not retry a subscribe the hub refused as not-allowed", () => {
    make(null);
    session.handle(listed("cam1"));
    session.handle({ type: "error", code: "not-allowed", message: "token for cam2 only" });
    expect(session.view.notice).toBe(
      "This link does not allow watching cam1. Ask the operator for a link to it.",
    );
    expect(session.view.paused).toBe(true);
    expect(session.view.retryAt).toBeNull();
  });

  it("retryNow() skips the pending resubscribe delay", async () => {
    make(null);
    session.handle(listed("cam1"));
    await startSession("s1");
    session.handle({ type: "sessionClosed", sessionId: "s1", reason: "streamer-left" });
    expect(session.view.retryAt).not.toBeNull();
    sent = [];
    session.retryNow();
    expect(session.view.retryAt).toBeNull();
    expect(sent).toEqual([{ type: "listStreamers" }]);
  });

  it("shows a refusal of its token as refused, keeps no session, and starts over once let in", async () => {
    make(null);
    session.handle(listed("cam1"));
    await startSession("s1");
    session.hubDisconnected();
    session.hubRefused("unauthorized");
    expect(session.view.state).toBe("refused");
    expect(session.view.refusal).toBe("unauthorized");
    expect(session.view.sessionId).toBeNull();
    expect(peers[0]?.closed).toBe(true);
    session.hubConnected();
    expect(session.view.refusal).toBeNull();
    session.handle(config);
    expect(session.view.state).toBe("waiting");
  });

  it("keeps the display figures of the latest stats sample until teardown", async () => {
    make(null);
    session.handle(listed("cam1"));
    await startSession("s1");
    const peer = peers[0];
    if (!peer) throw new Error("no peer");
    peer.stats = { framesDecoded: 30, fps: 30, jitterMs: 1, packetsLost: 0 };
    clock.advance(STATS_SAMPLE_MS);
    await flush();
    expect(session.view.videoFigures).toEqual(peer.video);
    session.handle({ type: "sessionClosed", sessionId: "s1", reason: "streamer-left" });
    expect(session.view.videoFigures).toBeNull();
  });

  it("drops a session still negotiating when the hub becomes unreachable and starts over on reconnect", () => {
    make(null);
    session.handle(listed("cam1"));
    session.handle({ type: "sessionStarted", sessionId: "s1", streamerId: "cam1" });
    session.handle({ type: "offer", sessionId: "s1", sdp: "offer s1" });
    session.hubDisconnected();
    expect(session.view.state).toBe("offline");
    expect(peers[0]?.closed).toBe(true);
    session.handle({ type: "ping", sessionId: "s1", time: 1 });
    expect(sent.at(-1)).not.toMatchObject({ type: "pong" });

    session.hubConnected();
    expect(session.view.state).toBe("connecting");
    session.handle(config);
    expect(sent.at(-1)).toEqual({ type: "listStreamers" });
  });

  it("ends the session with media-timeout when ICE fails (not when it is merely disconnected)", async () => {
    make(null);
    session.handle(listed("cam1"));
    await startSession("s1");
    const before = sent.length;
    peers[0]?.events.connectionStateChange("disconnected");
    expect(sent.length).toBe(before);
    expect(session.view.state).toBe("live");

    peers[0]?.events.connectionStateChange("failed");
    expect(sent.at(-1)).toEqual({ type: "endSession", sessionId: "s1", reason: "media-timeout" });
    expect(sent).not.toContainEqual(expect.objectContaining({ type: "unsubscribe" }));
    session.handle({ type: "sessionClosed", sessionId: "s1", reason: "media-timeout" });
    expect(session.view.state).toBe("ended");
    expect(session.view.closeReason).toBe("media-timeout");
    expect(session.view.notice).toBeNull();
    expect(session.view.retryAt).toBe(clock.now() + 1000);
  });

  describe("stale sessions", () => {
    it("shows stale with the late end, and live again when the hub says so", async () => {
      make(null);
      session.handle(listed("cam1"));
      await startSession("s1");
      session.handle({ type: "sessionState", sessionId: "s1", state: "stale", late: "streamer" });
      expect(session.view.state).toBe("stale");
      expect(session.view.late).toBe("streamer");
      expect(peers[0]?.closed).toBe(false);

      session.handle({ type: "sessionState", sessionId: "s1", state: "stale", late: "player" });
      expect(session.view.late).toBe("player");
      session.handle({ type: "sessionState", sessionId: "s1", state: "live" });
      expect(session.view.state).toBe("live");
      expect(session.view.late).toBeNull();
    });

    it("knows when the late end's connection dropped, and forgets it when the session is live again", async () => {
      make(null);
      session.handle(listed("cam1"));
      await startSession("s1");
      session.handle({ type: "sessionState", sessionId: "s1", state: "stale", late: "streamer", away: true });
      expect([session.view.state, session.view.late, session.view.lateAway]).toEqual([
        "stale",
        "streamer",
        true,
      ]);
      session.handle({ type: "sessionState", sessionId: "s1", state: "stale", late: "streamer" });
      expect(session.view.lateAway).toBe(false);
      session.handle({ type: "sessionState", sessionId: "s1", state: "stale", late: "streamer", away: true });
      session.handle({ type: "sessionState", sessionId: "s1", state: "live" });
      expect([session.view.state, session.view.lateAway]).toEqual(["live", false]);
    });

    it("ignores the state of another session", async () => {
      make(null);
      session.handle(listed("cam1"));
      await startSession("s1");
      session.handle({ type: "sessionState", sessionId: "other", state: "stale", late: "streamer" });
      expect(session.view.state).toBe("live");
      expect(session.view.late).toBeNull();
    });

    it("goes stale rather than live when ICE connects after the hub reported a missed beat", async () => {
      make(null);
      session.handle(listed("cam1"));
      session.handle({ type: "sessionStarted", sessionId: "s1", streamerId: "cam1" });
      session.handle({ type: "sessionState", sessionId: "s1", state: "stale", late: "streamer" });
      expect(session.view.state).toBe("negotiating");
      session.handle({ type: "offer", sessionId: "s1", sdp: "offer s1" });
      await flush();
      peers[0]?.events.connectionStateChange("connected");
      expect(session.view.state).toBe("stale");
    });
  });

  describe("heartbeat data", () => {
    const stats: ReceiveStats = { framesDecoded: 300, fps: 30, jitterMs: 2.5, packetsLost: 1 };

    it("attaches the cached receive stats to each pong, sampled by a timer, never awaited", async () => {
      make(null);
      session.handle(listed("cam1"));
      await startSession("s1");
      const peer = peers[0];
      if (peer === undefined) throw new Error("no peer");
      session.handle({ type: "ping", sessionId: "s1", time: 1 });
      expect(sent.at(-1)).toEqual({ type: "pong", sessionId: "s1", time: 1 });

      peer.stats = stats;
      clock.advance(STATS_SAMPLE_MS);
      expect(peer.statsReads).toBe(1);
      await flush();
      expect(session.view.receiveStats).toEqual(stats);
      session.handle({ type: "ping", sessionId: "s1", time: 2 });
      // Synchronous: the pong left inside handle(), with the cached copy.
      expect(sent.at(-1)).toEqual({ type: "pong", sessionId: "s1", time: 2, stats });

      peer.stats = { ...stats, framesDecoded: 330 };
      clock.advance(STATS_SAMPLE_MS);
      await flush();
      session.handle({ type: "ping", sessionId: "s1", time: 3 });
      expect(sent.at(-1)).toMatchObject({ stats: { framesDecoded: 330 } });
    });

    it("stops sampling at teardown", async () => {
      make(null);
      session.handle(listed("cam1"));
      await startSession("s1");
      clock.advance(STATS_SAMPLE_MS * 2);
      const reads = peers[0]?.statsReads;
      session.handle({ type: "sessionClosed", sessionId: "s1", reason: "streamer-left" });
      clock.advance(STATS_SAMPLE_MS * 5);
      expect(peers[0]?.statsReads).toBe(reads);
      expect(session.view.receiveStats).toBeNull();
    });

    it("keeps the streamer's signaling RTT from pings and its media RTT from data-channel pings", async () => {
      make(null);
      session.handle(listed("cam1"));
      await startSession("s1");
      expect(session.view.heartbeatRttMs).toBeNull();
      expect(session.view.mediaRttMs).toBeNull();
      session.handle({ type: "ping", sessionId: "s1", time: 1, rttMs: 12 });
      expect(session.view.heartbeatRttMs).toBe(12);

      peers[0]?.events.mediaPing({ type: "ping", time: 5 });
      expect(session.view.mediaPingsReceived).toBe(1);
      expect(session.view.mediaRttMs).toBeNull();
      peers[0]?.events.mediaPing({ type: "ping", time: 6, rttMs: 3.5, signalingRttMs: 14 });
      expect(session.view.mediaPingsReceived).toBe(2);
      expect(session.view.mediaRttMs).toBe(3.5);
      expect(session.view.heartbeatRttMs).toBe(14);

      session.handle({ type: "sessionClosed", sessionId: "s1", reason: "streamer-left" });
      expect(session.view.heartbeatRttMs).toBeNull();
      expect(session.view.mediaRttMs).toBeNull();
    });
  });

  it("takes a live config change without restarting anything", async () => {
    make(null);
    session.handle(listed("cam1"));
    await startSession("s1");
    const before = sent.length;
    const changed = { ...config, heartbeat: { ...config.heartbeat, intervalMs: 500 } };
    session.handle(changed);
    expect(session.view.config).toEqual(changed);
    expect(session.view.state).toBe("live");
    expect(sent.length).toBe(before);
    expect(peers[0]?.closed).toBe(false);
  });

  describe("resume", () => {
    const dropAndReconnect = async () => {
      make(null);
      session.handle(listed("cam1"));
      await startSession("s1");
      session.hubDisconnected();
      expect(session.view.state).toBe("reconnecting");
      expect(peers[0]?.closed).toBe(false);
      session.hubUnreachable(null); // a failed attempt changes nothing
      expect(session.view.state).toBe("reconnecting");
      session.hubConnected();
      expect(session.view.state).toBe("reconnecting");
      session.handle(config);
      expect(session.view.state).toBe("reconnecting");
    };

    it("presents the token of the latest config", () => {
      make(null);
      expect(session.resumeToken).toBe(config.resumeToken);
    });

    it("keeps the peer connection and session when resumed lists it", async () => {
      await dropAndReconnect();
      session.handle({ type: "resumed", sessionIds: ["s1"] });
      session.handle(listed("cam1")); // the answer to listStreamers
      expect(session.view.state).toBe("live");
      expect(session.view.sessionId).toBe("s1");
      expect(session.view.resumes).toBe(1);
      expect(peers).toHaveLength(1);
      expect(peers[0]?.closed).toBe(false);
      expect(sent.filter((m) => m.type === "subscribe")).toHaveLength(1);
      clock.advance(RESUME_GRACE_MS + RESUME_SLACK_MS + 1); // the grace timer is gone
      expect(session.view.state).toBe("live");
    });

    it("tears down and resubscribes when resumed does not list the session", async () => {
      await dropAndReconnect();
      session.handle({ type: "resumed", sessionIds: [] });
      expect(session.view.state).toBe("waiting");
      expect(session.view.sessionId).toBeNull();
      expect(peers[0]?.closed).toBe(true);
      expect(session.view.resumes).toBe(0);
      session.handle(listed("cam1"));
      expect(sent.at(-1)).toEqual({ type: "subscribe", streamerId: "cam1" });
      expect(session.view.state).toBe("negotiating");
    });

    it("gives up after the grace period and shows the hub unreachable", async () => {
      make(null);
      session.handle(listed("cam1"));
      await startSession("s1");
      session.hubDisconnected();
      clock.advance(RESUME_GRACE_MS + RESUME_SLACK_MS - 1);
      expect(session.view.state).toBe("reconnecting");
      clock.advance(1);
      expect(session.view.state).toBe("offline");
      expect(peers[0]?.closed).toBe(true);
      expect(session.view.sessionId).toBeNull();

      // The hub may still have kept it: whatever it lists that we no longer have is ended.
      session.hubConnected();
      session.handle(config);
      session.handle({ type: "resumed", sessionIds: ["s1"] });
      expect(sent.at(-1)).toEqual({ type: "unsubscribe", sessionId: "s1" });
      expect(session.view.state).toBe("waiting");
    });

    it("starts over if the hub never says resumed", async () => {
      await dropAndReconnect();
      clock.advance(RESUME_GRACE_MS + RESUME_SLACK_MS);
      expect(session.view.state).toBe("waiting");
      expect(peers[0]?.closed).toBe(true);
      expect(sent.at(-1)).toEqual({ type: "listStreamers" });
    });
  });
});
