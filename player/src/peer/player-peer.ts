import {
  MEDIA_HEARTBEAT_CHANNEL,
  type IceCandidateInit,
  type IceServer,
  type MediaPing,
} from "@heartline/shared";
import { answerMediaPing } from "./media-heartbeat.js";
import { readReceiveStats, type ReceiveReading, type ReceiveStatsSample } from "./receive-stats.js";

/** What a session's peer connection reports back to its owner. */
export interface PeerEvents {
  /** A local ICE candidate to trickle to the streamer. */
  localCandidate(candidate: IceCandidateInit): void;
  /** The streamer's media arrived. */
  remoteStream(stream: MediaStream): void;
  connectionStateChange(state: RTCPeerConnectionState): void;
  /** A valid ping on the `heartline` data channel, already answered. */
  mediaPing(ping: MediaPing): void;
}

/** The receive-only side of one session: what the session controller needs from it. */
export interface Peer {
  /** The underlying connection, for the debug handle and tests; null once closed. */
  readonly pc: RTCPeerConnection | null;
  /** Applies the streamer's offer; resolves with the answer SDP. */
  answer(offerSdp: string): Promise<string>;
  /** Adds a trickled candidate, after any offer still being applied. */
  addRemoteCandidate(candidate: IceCandidateInit): void;
  /** The inbound video figures now (`getStats()`), or null before any video arrives or once closed. */
  readReceiveStats(): Promise<ReceiveReading | null>;
  /** Idempotent. */
  close(): void;
}

export type PeerFactory = (iceServers: IceServer[], events: PeerEvents) => Peer;

/**
 * One RTCPeerConnection that answers a streamer's offer. Offers and remote candidates are applied
 * in arrival order through one promise chain, so a candidate never races ahead of its offer.
 */
export class PlayerPeer implements Peer {
  private connection: RTCPeerConnection | null;
  private chain: Promise<unknown> = Promise.resolve();
  private lastSample: ReceiveStatsSample | null = null;

  constructor(iceServers: IceServer[], events: PeerEvents) {
    // Only the hub's ICE servers: nothing may phone a third party by default.
    const pc = new RTCPeerConnection({ iceServers });
    this.connection = pc;
    pc.onicecandidate = (event) => {
      const c = event.candidate;
      // A null candidate marks the end of gathering; the protocol has nothing to say about it.
      if (c === null || this.connection === null) return;
      events.localCandidate({ candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex });
    };
    pc.ontrack = (event) => {
      if (this.connection === null) return;
      events.remoteStream(event.streams[0] ?? new MediaStream([event.track]));
    };
    pc.onconnectionstatechange = () => {
      if (this.connection === null) return;
      events.connectionStateChange(pc.connectionState);
    };
    pc.ondatachannel = (event) => {
      const channel = event.channel;
      if (channel.label !== MEDIA_HEARTBEAT_CHANNEL) return;
      // Answered from the message handler itself, never a timer: see answerMediaPing.
      channel.onmessage = (message: MessageEvent<unknown>) => {
        if (this.connection === null) return;
        const ping = answerMediaPing(message.data, (text) => {
          channel.send(text);
        });
        if (ping !== null) events.mediaPing(ping);
      };
    };
  }

  get pc(): RTCPeerConnection | null {
    return this.connection;
  }

  answer(offerSdp: string): Promise<string> {
    const step = this.chain.then(async () => {
      const pc = this.requireOpen();
      await pc.setRemoteDescription({ type: "offer", sdp: offerSdp });
      await pc.setLocalDescription(await pc.createAnswer());
      const sdp = pc.localDescription?.sdp;
      if (sdp === undefined) throw new Error("no local description after createAnswer");
      return sdp;
    });
    this.chain = step.catch(() => undefined);
    return step;
  }

  addRemoteCandidate(candidate: IceCandidateInit): void {
    this.chain = this.chain.then(async () => {
      const pc = this.connection;
      if (pc === null) return;
      try {
        await pc.addIceCandidate(candidate);
      } catch (error) {
        console.warn("heartline: remote ICE candidate refused", candidate.candidate, error);
      }
    });
  }

  async readReceiveStats(): Promise<ReceiveReading | null> {
    const pc = this.connection;
    if (pc === null) return null;
    const sample = readReceiveStats(await pc.getStats(), this.lastSample);
    if (sample !== null) this.lastSample = sample;
    return sample === null
      ? null
      : { stats: sample.stats, video: sample.video, bytesReceived: sample.bytesReceived };
  }

  close(): void {
    const pc = this.connection;
    if (pc === null) return;
    this.connection = null;
    pc.onicecandidate = null;
    pc.ontrack = null;
    pc.onconnectionstatechange = null;
    pc.ondatachannel = null;
    pc.close();
  }

  private requireOpen(): RTCPeerConnection {
    if (this.connection === null) throw new Error("peer connection is closed");
    return this.connection;
  }
}

export const createPlayerPeer: PeerFactory = (iceServers, events) => new PlayerPeer(iceServers, events);
