/**
 * Real media, end to end on loopback: the real Encoder (a real ffmpeg) feeds PeerSessions, and
 * werift receivers stand in for browsers. No hub: the test relays the signaling itself.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RTCPeerConnection, type MediaStreamTrack, type RTCDataChannel, type RtpPacket } from "werift";
import { pino } from "pino";
import {
  MEDIA_HEARTBEAT_CHANNEL,
  MediaPingSchema,
  type MediaPing,
  type StreamerToHubMessage,
} from "@heartline/shared";
import type { VideoCodec } from "../options.js";
import { rtpCodec, rtpMimeType } from "./codecs.js";
import { Encoder } from "./Encoder.js";
import { PeerSession } from "./PeerSession.js";
import { LOOPBACK_ADDRESS, candidateAddress } from "./icePolicy.js";
import { parseSource } from "./source.js";

const execFileAsync = promisify(execFile);

const logger = pino({ level: "silent" });

interface Receiver {
  pc: RTCPeerConnection;
  packets: RtpPacket[];
  /** Every candidate address the session offered to this receiver. */
  offeredAddresses: string[];
  answerSdp: string;
  /** The data channels the session opened (by label), and the media pings received on them. */
  channels: string[];
  mediaPings: MediaPing[];
  /** When false, media pings go unanswered (a dead media path). */
  answerMediaPings: boolean;
  /** Every message the session sent to the "hub" (offer, candidates, endSession). */
  toHub: StreamerToHubMessage[];
  mediaTimeouts: string[];
}

/** Media heartbeat settings fast enough for a test. */
const FAST_HEARTBEAT = { intervalMs: 100, timeoutMs: 500 };

/** Connects a werift receiver to a new PeerSession, relaying signaling the way the hub would. */
async function connectReceiver(
  sessionId: string,
  codec: VideoCodec,
  heartbeat = FAST_HEARTBEAT,
): Promise<[PeerSession, Receiver]> {
  const pc = new RTCPeerConnection({
    iceServers: [],
    iceUseIpv6: false,
    iceAdditionalHostAddresses: [LOOPBACK_ADDRESS],
    iceInterfaceAddresses: { udp4: LOOPBACK_ADDRESS },
    codecs: { video: [rtpCodec(codec)], audio: [] },
  });
  const receiver: Receiver = {
    pc,
    packets: [],
    offeredAddresses: [],
    answerSdp: "",
    channels: [],
    mediaPings: [],
    answerMediaPings: true,
    toHub: [],
    mediaTimeouts: [],
  };
  // Like the player: answer each media ping at once, from the message handler.
  pc.onDataChannel.subscribe((channel: RTCDataChannel) => {
    receiver.channels.push(channel.label);
    channel.onMessage.subscribe((data) => {
      const ping = MediaPingSchema.parse(JSON.parse(data.toString()));
      receiver.mediaPings.push(ping);
      if (receiver.answerMediaPings) channel.send(JSON.stringify({ type: "pong", time: ping.time }));
    });
  });
  pc.onTrack.subscribe((track: MediaStreamTrack) => {
    track.onReceiveRtp.subscribe((packet) => {
      receiver.packets.push(packet);
    });
  });

  const toReceiver: StreamerToHubMessage[] = [];
  let offered = false;
  const session = new PeerSession({
    sessionId,
    codec,
    iceServers: [],
    loopbackOnly: true,
    send: (message) => {
      receiver.toHub.push(message);
      toReceiver.push(message);
      void deliver();
    },
    heartbeat,
    onMediaTimeout: (detail) => receiver.mediaTimeouts.push(detail),
    logger,
  });
  // Candidates may come before the offer was applied: deliver in order, one at a time.
  let delivering = Promise.resolve();
  const deliver = (): Promise<void> =>
    (delivering = delivering.then(async () => {
      for (let message = toReceiver.shift(); message; message = toReceiver.shift()) {
        if (message.type === "offer") {
          for (const line of message.sdp.split("\r\n")) {
            if (line.startsWith("a=candidate:")) receiver.offeredAddresses.push(candidateAddress(line) ?? "");
          }
          await pc.setRemoteDescription({ type: "offer", sdp: message.sdp });
          const answer = await pc.createAnswer();
          await pc.setLocalDescription(answer);
          receiver.answerSdp = pc.localDescription?.sdp ?? answer.sdp;
          offered = true;
          await session.applyAnswer(receiver.answerSdp);
        } else if (message.type === "iceCandidate") {
          receiver.offeredAddresses.push(candidateAddress(message.candidate.candidate) ?? "");
          await pc.addIceCandidate({
            candidate: message.candidate.candidate,
            sdpMid: message.candidate.sdpMid ?? undefined,
            sdpMLineIndex: message.candidate.sdpMLineIndex ?? undefined,
          });
        }
      }
    }));
  pc.onIceCandidate.subscribe((candidate) => {
    if (!candidate || !offered) return;
    void session.addRemoteCandidate(candidate.toJSON());
  });

  await session.start();
  await vi.waitFor(() => {
    expect(offered, "the answer").toBe(true);
  }, 10_000);
  return [session, receiver];
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe.each<VideoCodec>(["vp8", "h264"])("real media with %s", (codec) => {
  it("sends the encoder's RTP to two receivers from one ffmpeg process, over loopback only", async () => {
    const sessions: PeerSession[] = [];
    const encoder = new Encoder({
      settings: {
        source: { kind: "testpattern" },
        codec,
        width: 320,
        height: 180,
        fps: 30,
        bitrateKbps: 300,
        keyframeIntervalFrames: 30,
        label: "test",
      },
      logger,
      onPacket: (packet) => {
        for (const session of sessions) session.writeRtp(packet);
      },
    });
    cleanups.push(() => encoder.stop());
    await encoder.start();
    const ffmpegPid = encoder.pid;
    expect(ffmpegPid).toBeTypeOf("number");

    const receivers: Receiver[] = [];
    for (const sessionId of ["session-1", "session-2"]) {
      const [session, receiver] = await connectReceiver(sessionId, codec);
      sessions.push(session);
      receivers.push(receiver);
      cleanups.push(async () => {
        session.close();
        await receiver.pc.close();
      });
    }

    await vi.waitFor(() => {
      expect(
        sessions.every((s) => s.state === "connected"),
        "both sessions connected",
      ).toBe(true);
    }, 10_000);
    await vi.waitFor(() => {
      expect(
        receivers.every((r) => r.packets.length >= 60),
        "60 RTP packets at each receiver",
      ).toBe(true);
    }, 10_000);

    const negotiatedPayloadType = rtpPayloadType(receivers[0]?.answerSdp ?? "", rtpMimeType(codec));
    expect(negotiatedPayloadType).toBeTypeOf("number");
    for (const receiver of receivers) {
      expect(new Set(receiver.packets.map((p) => p.header.payloadType))).toEqual(
        new Set([negotiatedPayloadType]),
      );
      expect(receiver.offeredAddresses.length).toBeGreaterThan(0);
      expect(new Set(receiver.offeredAddresses)).toEqual(new Set([LOOPBACK_ADDRESS]));
    }
    // Encode once: the same single ffmpeg process fed both sessions throughout.
    expect(encoder.pid).toBe(ffmpegPid);
  });
});

describe("a media file as the source", () => {
  it("streams the file scaled and re-timed, and loops it past its end without restarting ffmpeg", async () => {
    // A 2 s clip of another size and rate than the stream, made with the same ffmpeg.
    const dir = await mkdtemp(join(tmpdir(), "heartline-source-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const clip = join(dir, "clip.mp4");
    // prettier-ignore
    await execFileAsync("ffmpeg", [
      "-hide_banner", "-loglevel", "error", "-y",
      "-f", "lavfi", "-i", "testsrc2=size=200x150:rate=25", "-t", "2",
      "-c:v", "libx264", "-pix_fmt", "yuv420p", clip,
    ]);

    const sessions: PeerSession[] = [];
    const encoder = new Encoder({
      settings: {
        source: parseSource(clip),
        codec: "vp8",
        width: 320,
        height: 180,
        fps: 30,
        bitrateKbps: 300,
        keyframeIntervalFrames: 30,
        label: "clip",
      },
      logger,
      onPacket: (packet) => {
        for (const session of sessions) session.writeRtp(packet);
      },
    });
    cleanups.push(() => encoder.stop());
    await encoder.start();
    const startedAt = Date.now();
    const [session, receiver] = await connectReceiver("session-file", "vp8");
    sessions.push(session);
    cleanups.push(async () => {
      session.close();
      await receiver.pc.close();
    });
    await vi.waitFor(() => {
      expect(receiver.packets.length, "RTP at the receiver").toBeGreaterThan(0);
    }, 10_000);

    // Well past the clip's 2 s: the loop must still be sending, at the configured frame rate.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, startedAt + 3_500 - Date.now())));
    const framesBefore = receiver.packets.filter((p) => p.header.marker).length;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const framesPerSecond = (receiver.packets.filter((p) => p.header.marker).length - framesBefore) / 2;
    expect(framesPerSecond).toBeGreaterThan(20);
    expect(framesPerSecond).toBeLessThan(40);
    // Looped by ffmpeg itself, not by dying at the end and being restarted.
    expect(encoder.runCount).toBe(1);
  }, 20_000);
});

describe("media-path heartbeat over real werift", () => {
  /** A session and receiver on loopback, closed after the test. No encoder: only the data channel matters. */
  async function connected(): Promise<[PeerSession, Receiver]> {
    const [session, receiver] = await connectReceiver("session-hb", "vp8");
    cleanups.push(async () => {
      session.close();
      await receiver.pc.close();
    });
    await vi.waitFor(() => {
      expect(session.state, "the session to connect").toBe("connected");
    }, 10_000);
    return [session, receiver];
  }

  it("opens the heartline data channel from the offer and measures the media RTT", async () => {
    const [session, receiver] = await connected();
    await vi.waitFor(() => {
      expect(session.mediaRttMs, "a media RTT").toBeDefined();
    }, 10_000);
    expect(receiver.channels).toEqual([MEDIA_HEARTBEAT_CHANNEL]);
    expect(session.mediaRttMs).toBeGreaterThanOrEqual(0);
    expect(session.mediaRttMs).toBeLessThan(500);
    // Later pings tell the player the RTT the agent measured.
    await vi.waitFor(() => {
      expect(
        receiver.mediaPings.some((p) => p.rttMs !== undefined),
        "a ping carrying rttMs",
      ).toBe(true);
    }, 10_000);
    // Still alive well past the timeout while pongs come back.
    await new Promise((resolve) => setTimeout(resolve, 2 * FAST_HEARTBEAT.timeoutMs));
    expect(receiver.mediaTimeouts).toEqual([]);
    expect(receiver.toHub.filter((m) => m.type === "endSession")).toEqual([]);
  });

  it("asks the hub to end the session (media-timeout) when the receiver stops answering", async () => {
    const [, receiver] = await connected();
    await vi.waitFor(() => {
      expect(receiver.mediaPings, "the first media ping").not.toHaveLength(0);
    }, 10_000);
    receiver.answerMediaPings = false;
    const stoppedAt = Date.now();
    await vi.waitFor(() => {
      expect(
        receiver.toHub.some((m) => m.type === "endSession"),
        "endSession",
      ).toBe(true);
    }, 5_000);
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(FAST_HEARTBEAT.timeoutMs - 150);
    expect(receiver.toHub.filter((m) => m.type === "endSession")).toEqual([
      { type: "endSession", sessionId: "session-hb", reason: "media-timeout" },
    ]);
    expect(receiver.mediaTimeouts).toHaveLength(1);
  });
});

describe("media-path heartbeat with video flowing", () => {
  it("keeps a session whose pongs are lost while the receiver's RTCP reports arrive", async () => {
    // On a lossy link pongs can stall behind SCTP retransmissions while video and its receiver
    // reports still get through: that path is alive. werift's receiver reports every 0.5-1.5 s.
    const heartbeat = { intervalMs: 200, timeoutMs: 2000 };
    const sessions: PeerSession[] = [];
    const encoder = new Encoder({
      settings: {
        source: { kind: "testpattern" },
        codec: "vp8",
        width: 160,
        height: 90,
        fps: 15,
        bitrateKbps: 100,
        keyframeIntervalFrames: 15,
        label: "test",
      },
      logger,
      onPacket: (packet) => {
        for (const session of sessions) session.writeRtp(packet);
      },
    });
    cleanups.push(() => encoder.stop());
    await encoder.start();
    const [session, receiver] = await connectReceiver("session-rtcp", "vp8", heartbeat);
    sessions.push(session);
    cleanups.push(async () => {
      session.close();
      await receiver.pc.close();
    });
    await vi.waitFor(() => {
      expect(receiver.packets.length, "video at the receiver").toBeGreaterThan(30);
    }, 10_000);
    receiver.answerMediaPings = false;
    await new Promise((resolve) => setTimeout(resolve, 2.5 * heartbeat.timeoutMs));
    expect(receiver.mediaTimeouts).toEqual([]);
    expect(receiver.toHub.filter((m) => m.type === "endSession")).toEqual([]);
    expect(session.state).toBe("connected");
    // The receiver goes away (its reports stop with it): now the path is condemned.
    await receiver.pc.close();
    await vi.waitFor(() => {
      expect(receiver.mediaTimeouts, "media timeout").toHaveLength(1);
    }, 2 * heartbeat.timeoutMs);
  });
});

/** The payload type an SDP maps to `mimeType` (e.g. `a=rtpmap:96 VP8/90000`). */
function rtpPayloadType(sdp: string, mimeType: string): number | undefined {
  const name = mimeType.split("/")[1] ?? "";
  const match = new RegExp(`^a=rtpmap:(\\d+) ${name}/90000`, "im").exec(sdp);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}
