/**
 * Real media, end to end on loopback: the real Encoder (a real ffmpeg) feeds PeerSessions, and
 * werift receivers stand in for browsers. No hub: the test relays the signaling itself.
 */
import { afterEach, describe, expect, it } from "vitest";
import { RTCPeerConnection, type MediaStreamTrack, type RtpPacket } from "werift";
import { pino } from "pino";
import type { StreamerToHubMessage } from "@heartline/shared";
import type { VideoCodec } from "../options.js";
import { rtpCodec, rtpMimeType } from "./codecs.js";
import { Encoder } from "./Encoder.js";
import { PeerSession } from "./PeerSession.js";
import { LOOPBACK_ADDRESS, candidateAddress } from "./icePolicy.js";

const logger = pino({ level: "silent" });

/** Resolves when `predicate` holds, polling; rejects after `timeoutMs` naming what was awaited. */
async function waitFor(what: string, predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Receiver {
  pc: RTCPeerConnection;
  packets: RtpPacket[];
  /** Every candidate address the session offered to this receiver. */
  offeredAddresses: string[];
  answerSdp: string;
}

/** Connects a werift receiver to a new PeerSession, relaying signaling the way the hub would. */
async function connectReceiver(sessionId: string, codec: VideoCodec): Promise<[PeerSession, Receiver]> {
  const pc = new RTCPeerConnection({
    iceServers: [],
    iceUseIpv6: false,
    iceAdditionalHostAddresses: [LOOPBACK_ADDRESS],
    iceInterfaceAddresses: { udp4: LOOPBACK_ADDRESS },
    codecs: { video: [rtpCodec(codec)], audio: [] },
  });
  const receiver: Receiver = { pc, packets: [], offeredAddresses: [], answerSdp: "" };
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
      toReceiver.push(message);
      void deliver();
    },
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
  await waitFor("the answer", () => offered);
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

    await waitFor("both sessions connected", () => sessions.every((s) => s.state === "connected"));
    await waitFor("60 RTP packets at each receiver", () => receivers.every((r) => r.packets.length >= 60));

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

/** The payload type an SDP maps to `mimeType` (e.g. `a=rtpmap:96 VP8/90000`). */
function rtpPayloadType(sdp: string, mimeType: string): number | undefined {
  const name = mimeType.split("/")[1] ?? "";
  const match = new RegExp(`^a=rtpmap:(\\d+) ${name}/90000`, "im").exec(sdp);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}
