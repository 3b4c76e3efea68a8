/**
 * One WebRTC peer connection per hub session: the agent offers a send-only video track, the
 * player answers, and ICE candidates trickle both ways through the hub. The session never
 * encodes: the agent hands it the encoder's RTP packets (`writeRtp`), shared by every session.
 *
 * It also runs the media-path heartbeat on the `heartline` data channel (MediaHeartbeat). When
 * that lapses or ICE fails, the session asks the hub to end it (`endSession`, `media-timeout`)
 * and tells the agent, which decides about local teardown. A Pixel Streaming session runs
 * another protocol on its data channel instead (`channel`: Unreal's, on `datachannel`).
 *
 * Lifecycle: negotiating -> connected -> closed. `close()` is idempotent and releases the peer
 * connection at once; the agent calls it when the hub ends the session or the hub goes away.
 */
import { MediaStreamTrack, RTCPeerConnection, type RTCDataChannel } from "werift";
import {
  MEDIA_HEARTBEAT_CHANNEL,
  type IceCandidateInit,
  type IceServer,
  type StreamerToHubMessage,
} from "@heartline/shared";
import type { Logger } from "pino";
import { systemClock, type Clock } from "@heartline/shared/timing";
import { MediaHeartbeat, type MediaHeartbeatSettings } from "../heartbeat/MediaHeartbeat.js";
import type { VideoCodec } from "../options.js";
import { rtpCodec } from "./codecs.js";
import { filterSdpCandidates, isAllowedCandidate, peerIceConfig } from "./icePolicy.js";

export type PeerSessionState = "negotiating" | "connected" | "closed";

/**
 * What a session runs on its one data channel in place of heartline's media heartbeat. The
 * session creates the channel under `label` before the offer, so it is negotiated with it.
 */
export interface SessionChannel {
  readonly label: string;
  /** The channel opened; `send` writes to it (and drops while it is not open). */
  opened(send: (data: string | Buffer) => void): void;
  received(data: string | Buffer): void;
  /** The session closed; stop any timer. */
  closed(): void;
}

interface PeerSessionCommonOptions {
  sessionId: string;
  codec: VideoCodec;
  /** Exactly the hub's `config.iceServers`; never werift's default public STUN server. */
  iceServers: readonly IceServer[];
  loopbackOnly: boolean;
  /** Sends a message to the hub (the `offer`, local ICE candidates, `endSession`). */
  send: (message: StreamerToHubMessage) => void;
  /** The session's last signaling RTT, passed on to the player in media pings. */
  signalingRttMs?: () => number | undefined;
  /** Whether the session's signaling heartbeat is on time (the media heartbeat judges only then). */
  signalingHealthy?: () => boolean;
  /** Called once when the media path is dead, after `endSession` went to the hub. */
  onMediaTimeout?: (detail: string) => void;
  logger: Logger;
  clock?: Clock;
}

/** A heartline session: the media heartbeat runs on the `heartline` data channel. */
export interface PeerSessionOptions extends PeerSessionCommonOptions {
  /** The hub's heartbeat interval and timeout, applied to the data-channel heartbeat. */
  heartbeat: MediaHeartbeatSettings;
  channel?: undefined;
}

/** A session whose data channel carries another protocol (Pixel Streaming: Unreal's). */
export interface ChannelSessionOptions extends PeerSessionCommonOptions {
  channel: SessionChannel;
  heartbeat?: undefined;
}

export class PeerSession {
  readonly sessionId: string;
  private readonly pc: RTCPeerConnection;
  private readonly track: MediaStreamTrack;
  private readonly loopbackOnly: boolean;
  private readonly send: (message: StreamerToHubMessage) => void;
  private readonly logger: Logger;
  private readonly channel: RTCDataChannel;
  /** Absent when the data channel carries another protocol (`options.channel`). */
  private readonly heartbeat: MediaHeartbeat | undefined;
  private readonly customChannel: SessionChannel | undefined;
  private readonly onMediaTimeout: ((detail: string) => void) | undefined;
  private stateValue: PeerSessionState = "negotiating";
  private mediaFailed = false;
  /** Media checks waiting for the next data-channel message. */
  private readonly channelWaiters = new Set<(flowing: boolean) => void>();
  private readonly clock: Clock;

  constructor(options: PeerSessionOptions | ChannelSessionOptions) {
    this.sessionId = options.sessionId;
    this.loopbackOnly = options.loopbackOnly;
    this.send = options.send;
    this.logger = options.logger;
    this.onMediaTimeout = options.onMediaTimeout;
    this.clock = options.clock ?? systemClock;
    const codec = rtpCodec(options.codec);
    this.pc = new RTCPeerConnection({
      ...peerIceConfig(options.iceServers, options.loopbackOnly),
      codecs: { video: [codec], audio: [] },
      bundlePolicy: "max-bundle",
    });
    this.track = new MediaStreamTrack({ kind: "video" });
    const transceiver = this.pc.addTransceiver(this.track, { direction: "sendonly" });
    // Receiver reports, NACKs and bandwidth feedback about our video: the player's end of the
    // media path is alive (its tab may be frozen; that is the hub heartbeat's to judge).
    transceiver.sender.onRtcp.subscribe(() => {
      this.heartbeat?.pathHeard();
    });
    this.customChannel = options.channel;
    // Created before the offer, so the data channel is negotiated in the same offer.
    this.channel = this.pc.createDataChannel(options.channel?.label ?? MEDIA_HEARTBEAT_CHANNEL);
    this.heartbeat =
      options.heartbeat &&
      new MediaHeartbeat({
        settings: options.heartbeat,
        send: (text) => {
          this.sendOnChannel(text);
        },
        onTimeout: (silentForMs) => {
          this.failMedia(
            `nothing from the player on the media path (no pong, no RTCP) for ${silentForMs} ms`,
          );
        },
        onInvalid: (problem) => {
          this.logger.debug({ problem }, "invalid data-channel message ignored");
        },
        ...(options.signalingRttMs ? { signalingRttMs: options.signalingRttMs } : {}),
        ...(options.signalingHealthy ? { signalingHealthy: options.signalingHealthy } : {}),
        ...(options.clock ? { clock: options.clock } : {}),
      });
    this.channel.stateChanged.subscribe((state) => {
      if (this.stateValue === "closed") return;
      this.logger.debug({ channelState: state }, "heartbeat channel state");
      if (state !== "open") return;
      this.heartbeat?.start();
      this.customChannel?.opened((data) => {
        this.sendOnChannel(data);
      });
    });
    this.channel.onMessage.subscribe((data) => {
      if (this.stateValue === "closed") return;
      for (const waiter of this.channelWaiters) waiter(true);
      if (this.customChannel) this.customChannel.received(data);
      else this.heartbeat?.handleMessage(data);
    });

    this.pc.onIceCandidate.subscribe((candidate) => {
      if (this.stateValue === "closed" || !candidate) return;
      const init = candidate.toJSON();
      if (!isAllowedCandidate(init.candidate, this.loopbackOnly)) return;
      this.send({
        type: "iceCandidate",
        sessionId: this.sessionId,
        candidate: {
          candidate: init.candidate,
          sdpMid: init.sdpMid,
          sdpMLineIndex: init.sdpMLineIndex,
          usernameFragment: init.usernameFragment,
        },
      });
    });
    this.pc.connectionStateChange.subscribe((state) => {
      if (this.stateValue === "closed") return;
      this.logger.debug({ connectionState: state }, "peer connection state");
      if (state === "connected" && this.stateValue === "negotiating") {
        this.stateValue = "connected";
        this.logger.info("media connected");
      } else if (state === "failed") {
        this.failMedia("peer connection failed");
      } else if (state === "disconnected") {
        // Often recovers on its own (a lost burst of packets); the media heartbeat decides.
        this.logger.info("peer connection disconnected; waiting for it to recover");
      }
    });
    this.pc.iceConnectionStateChange.subscribe((state) => {
      if (this.stateValue === "closed") return;
      this.logger.debug({ iceConnectionState: state }, "ICE connection state");
      if (state === "failed") this.failMedia("ICE failed (no working path)");
    });
  }

  /** The last RTT measured over the data channel, once a pong arrived. */
  get mediaRttMs(): number | undefined {
    return this.heartbeat?.rttMs;
  }

  /**
   * The hub's `mediaCheck`: does anything still arrive from the player over the media path? A
   * media ping is sent at once to ask; true as soon as any data-channel message arrives, false
   * if none does within `windowMs` (a frozen tab or a dead browser answers nothing, while a
   * player whose signaling alone is cut still does).
   */
  checkMedia(windowMs: number): Promise<boolean> {
    if (this.stateValue === "closed" || this.channel.readyState !== "open") return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (flowing: boolean): void => {
        this.channelWaiters.delete(done);
        this.clock.clearTimeout(timer);
        resolve(flowing);
      };
      const timer = this.clock.setTimeout(() => {
        done(false);
      }, windowMs);
      this.channelWaiters.add(done);
      this.heartbeat?.pingNow();
    });
  }

  /** A live config change: the data-channel heartbeat follows the new interval at once. */
  setHeartbeat(settings: MediaHeartbeatSettings): void {
    this.heartbeat?.setSettings(settings);
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
    for (const waiter of this.channelWaiters) waiter(false);
    this.heartbeat?.stop();
    this.customChannel?.closed();
    this.track.stop();
    this.pc.close().catch((error: unknown) => {
      this.logger.warn({ err: error }, "closing the peer connection failed");
    });
  }

  private sendOnChannel(data: string | Buffer): void {
    if (this.channel.readyState !== "open") return;
    try {
      this.channel.send(data);
    } catch (error) {
      // A closing SCTP association throws; the heartbeat deadline is what notices a dead path.
      this.logger.debug({ err: error }, "data-channel ping not sent");
    }
  }

  /** The media path is dead: ask the hub to end the session, once, and tell the agent. */
  private failMedia(detail: string): void {
    if (this.mediaFailed || this.stateValue === "closed") return;
    this.mediaFailed = true;
    this.heartbeat?.stop();
    this.send({ type: "endSession", sessionId: this.sessionId, reason: "media-timeout" });
    this.logger.warn({ detail }, "media path dead; asked the hub to end the session");
    this.onMediaTimeout?.(detail);
  }
}
