/**
 * Test support: a player made of socket.io-client and a werift receiver, standing in for the
 * browser. It subscribes to a streamer, answers the offer, trickles ICE on loopback, answers
 * every ping (signaling and data channel) from the message handler (as the real player must),
 * and counts received RTP.
 */
import { io, type Socket } from "socket.io-client";
import { RTCPeerConnection, useH264, useVP8, type RTCDataChannel } from "werift";
import {
  HubToPlayerMessageSchema,
  MediaPingSchema,
  type MediaPing,
  type HubToPlayerMessage,
  type PlayerEmitEvents,
  type PlayerListenEvents,
  type PlayerToHubMessage,
} from "@heartline/shared";
import { LOOPBACK_ADDRESS } from "../media/icePolicy.js";

export class TestPlayer {
  readonly received: HubToPlayerMessage[] = [];
  rtpPackets = 0;
  sessionId: string | undefined;
  /** When false, pings go unanswered (a frozen player). */
  answerPings = true;
  /** When false, data-channel pings go unanswered (a dead media path). */
  answerMediaPings = true;
  /** Labels of the data channels the streamer opened. */
  readonly channels: string[] = [];
  readonly mediaPings: MediaPing[] = [];
  private readonly socket: Socket<PlayerListenEvents, PlayerEmitEvents>;
  private pc: RTCPeerConnection | undefined;
  private signaling = Promise.resolve();

  constructor(hubUrl: string) {
    this.socket = io(hubUrl, {
      transports: ["websocket"],
      auth: { role: "player" },
      reconnection: false,
      forceNew: true,
    });
    this.socket.on("message", (raw: unknown) => {
      const result = HubToPlayerMessageSchema.safeParse(raw);
      if (!result.success) return; // A hub of another protocol version; the test will notice what is missing.
      this.received.push(result.data);
      this.handle(result.data);
    });
  }

  subscribe(streamerId: string): void {
    this.send({ type: "subscribe", streamerId });
  }

  unsubscribe(): void {
    if (this.sessionId !== undefined) this.send({ type: "unsubscribe", sessionId: this.sessionId });
  }

  async close(): Promise<void> {
    this.socket.disconnect();
    await this.pc?.close();
  }

  private send(message: PlayerToHubMessage): void {
    if (this.socket.connected) {
      this.socket.emit("message", message);
    } else {
      this.socket.once("connect", () => this.socket.emit("message", message));
    }
  }

  private handle(message: HubToPlayerMessage): void {
    switch (message.type) {
      case "sessionStarted":
        this.sessionId = message.sessionId;
        return;
      case "ping":
        if (this.answerPings) this.send({ type: "pong", sessionId: message.sessionId, time: message.time });
        return;
      case "offer":
      case "iceCandidate":
        // Apply signaling strictly in order: a candidate must not overtake the offer.
        this.signaling = this.signaling.then(() => this.applySignaling(message)).catch(() => undefined);
        return;
      default:
        return;
    }
  }

  private async applySignaling(message: HubToPlayerMessage): Promise<void> {
    if (message.type === "offer") {
      const pc = new RTCPeerConnection({
        iceServers: [],
        iceUseIpv6: false,
        iceAdditionalHostAddresses: [LOOPBACK_ADDRESS],
        iceInterfaceAddresses: { udp4: LOOPBACK_ADDRESS },
        // Like a browser, accept either codec the agent may offer.
        codecs: { video: [useVP8(), useH264()], audio: [] },
      });
      this.pc = pc;
      pc.onDataChannel.subscribe((channel: RTCDataChannel) => {
        this.channels.push(channel.label);
        channel.onMessage.subscribe((data) => {
          const ping = MediaPingSchema.safeParse(JSON.parse(data.toString()));
          if (!ping.success) return;
          this.mediaPings.push(ping.data);
          if (this.answerMediaPings) channel.send(JSON.stringify({ type: "pong", time: ping.data.time }));
        });
      });
      pc.onTrack.subscribe((track) => {
        track.onReceiveRtp.subscribe(() => {
          this.rtpPackets += 1;
        });
      });
      pc.onIceCandidate.subscribe((candidate) => {
        if (!candidate) return;
        const init = candidate.toJSON();
        this.send({
          type: "iceCandidate",
          sessionId: message.sessionId,
          candidate: { candidate: init.candidate, sdpMid: init.sdpMid, sdpMLineIndex: init.sdpMLineIndex },
        });
      });
      await pc.setRemoteDescription({ type: "offer", sdp: message.sdp });
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      this.send({
        type: "answer",
        sessionId: message.sessionId,
        sdp: pc.localDescription?.sdp ?? answer.sdp,
      });
    } else if (message.type === "iceCandidate") {
      await this.pc?.addIceCandidate({
        candidate: message.candidate.candidate,
        sdpMid: message.candidate.sdpMid ?? undefined,
        sdpMLineIndex: message.candidate.sdpMLineIndex ?? undefined,
      });
    }
  }
}
