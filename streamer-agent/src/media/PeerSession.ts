/**
 * One WebRTC peer connection per hub session: the agent offers a send-only video track, the
 * player answers, and ICE candidates trickle both ways through the hub. The session never
 * encodes: the agent hands it the encoder's RTP packets (`writeRtp`), shared by every session.
 *
 * Lifecycle: negotiating -> connected -> closed. `close()` is idempotent and releases the peer
 * connection at once; the agent calls it when the hub ends the session or the hub goes away.
 */
import { MediaStreamTrack, RTCPeerConnection } from "werift";
import type { IceCandidateInit, IceServer, StreamerToHubMessage } from "@heartline/shared";
import type { Logger } from "pino";
import type { VideoCodec } from "../options.js";
import { rtpCodec } from "./codecs.js";
import { filterSdpCandidates, isAllowedCandidate, peerIceConfig } from "./icePolicy.js";

export type PeerSessionState = "negotiating" | "connected" | "closed";

export interface PeerSessionOptions {
  sessionId: string;
  codec: VideoCodec;
  /** Exactly the hub's `config.iceServers`; never werift's default public STUN server. */
  iceServers: readonly IceServer[];
  loopbackOnly: boolean;
  /** Sends a signaling message to the hub (the `offer` and local ICE candidates). */
  send: (message: StreamerToHubMessage) => void;
  logger: Logger;
}

export class PeerSession {
  readonly sessionId: string;
  private readonly pc: RTCPeerConnection;
  private readonly track: MediaStreamTrack;
  private readonly loopbackOnly: boolean;
  private readonly send: (message: StreamerToHubMessage) => void;
  private readonly logger: Logger;
  private stateValue: PeerSessionState = "negotiating";

  constructor(options: PeerSessionOptions) {
    this.sessionId = options.sessionId;
    this.loopbackOnly = options.loopbackOnly;
    this.send = options.send;
    this.logger = options.logger;
    const codec = rtpCodec(options.codec);
    this.pc = new RTCPeerConnection({
      ...peerIceConfig(options.iceServers, options.loopbackOnly),
      codecs: { video: [codec], audio: [] },
      bundlePolicy: "max-bundle",
    });
    this.track = new MediaStreamTrack({ kind: "video" });
    this.pc.addTransceiver(this.track, { direction: "sendonly" });

    this.pc.onIceCandidate.subscribe((candidate) => {
      if (this.stateValue === "closed" || !candidate) return;
      const init = candidate.toJSON();
      if (!isAllowedCandidate(init.candidate, this.loopbackOnly)) return;
      this.send({
        type: "iceCandidate",
        sessionId: this.sessionId,
        candidate: { candidate: init.candidate, sdpMid: init.sdpMid, sdpMLineIndex: init.sdpMLineIndex },
      });
    });
    this.pc.connectionStateChange.subscribe((state) => {
      if (this.stateValue === "closed") return;
      this.logger.debug({ connectionState: state }, "peer connection state");
      if (state === "connected" && this.stateValue === "negotiating") {
        this.stateValue = "connected";
        this.logger.info("media connected");
      } else if (state === "failed") {
        // The hub's heartbeat, not ICE, decides when a session ends; this is for the operator.
        this.logger.warn(
          "peer connection failed (no working ICE path); waiting for the hub to end the session",
        );
      }
    });
  }

  get state(): PeerSessionState {
    return this.stateValue;
  }

  /** Creates the offer and sends it to the hub. */
  async start(): Promise<void> {
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    if (this.stateValue === "closed") return;
    const sdp = filterSdpCandidates(this.pc.localDescription?.sdp ?? offer.sdp, this.loopbackOnly);
    this.send({ type: "offer", sessionId: this.sessionId, sdp });
    this.logger.debug("offer sent");
  }

  async applyAnswer(sdp: string): Promise<void> {
    if (this.stateValue === "closed") return;
    await this.pc.setRemoteDescription({ type: "answer", sdp });
    this.logger.debug("answer applied");
  }

  async addRemoteCandidate(candidate: IceCandidateInit): Promise<void> {
    if (this.stateValue === "closed") return;
    // An empty candidate is the end-of-candidates marker; werift needs nothing for it.
    if (candidate.candidate === "") return;
    if (!isAllowedCandidate(candidate.candidate, this.loopbackOnly)) {
      this.logger.debug({ candidate: candidate.candidate }, "remote candidate ignored (loopback only)");
      return;
    }
    await this.pc.addIceCandidate({
      candidate: candidate.candidate,
      sdpMid: candidate.sdpMid ?? undefined,
      sdpMLineIndex: candidate.sdpMLineIndex ?? undefined,
    });
  }

  /**
   * Sends one of the encoder's RTP packets. The Buffer is shared by all sessions and werift
   * parses its own copy per call (it rewrites SSRC, payload type and sequence numbers in place),
   * so sessions never see each other's rewrites.
   */
  writeRtp(packet: Buffer): void {
    if (this.stateValue !== "connected") return;
    this.track.writeRtp(packet);
  }

  /** Idempotent. Releases the peer connection and its sockets at once. */
  close(): void {
    if (this.stateValue === "closed") return;
    this.stateValue = "closed";
    this.track.stop();
    this.pc.close().catch((error: unknown) => {
      this.logger.warn({ err: error }, "closing the peer connection failed");
    });
  }
}
