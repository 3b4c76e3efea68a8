/**
 * Which network paths a session may use. By default werift gathers host candidates on every
 * interface except loopback; `--loopback-only` keeps WebRTC on 127.0.0.1 (tests on one machine,
 * where traffic must never leave the box). The ICE servers always come from the hub: werift's
 * own default is a public Google STUN server, and nothing here may contact a third party.
 */
import type { PeerConfig, RTCIceServer } from "werift";
import type { IceServer } from "@heartline/shared";

export const LOOPBACK_ADDRESS = "127.0.0.1";

export function peerIceConfig(iceServers: readonly IceServer[], loopbackOnly: boolean): Partial<PeerConfig> {
  const servers: RTCIceServer[] = iceServers.map((server) => ({ ...server }));
  if (!loopbackOnly) return { iceServers: servers, iceUseIpv6: false };
  return {
    // A STUN or TURN server would only add non-loopback candidates, which are dropped anyway.
    iceServers: [],
    iceUseIpv6: false,
    // werift skips loopback unless asked for it explicitly.
    iceAdditionalHostAddresses: [LOOPBACK_ADDRESS],
    // Every ICE socket binds to 127.0.0.1, so even a gathered LAN candidate cannot send off the box.
    iceInterfaceAddresses: { udp4: LOOPBACK_ADDRESS },
    iceFilterCandidatePair: (pair) =>
      pair.localCandidate.host === LOOPBACK_ADDRESS && pair.remoteCandidate.host === LOOPBACK_ADDRESS,
  };
}

/** The connection address of an ICE candidate line (`candidate:f 1 udp prio ADDRESS port typ host`). */
export function candidateAddress(candidate: string): string | undefined {
  return candidate.replace(/^a=/, "").split(/\s+/)[4];
}

export function isAllowedCandidate(candidate: string, loopbackOnly: boolean): boolean {
  return !loopbackOnly || candidateAddress(candidate) === LOOPBACK_ADDRESS;
}

/** Removes from an SDP the candidates the policy does not allow (werift may inline gathered ones). */
export function filterSdpCandidates(sdp: string, loopbackOnly: boolean): string {
  if (!loopbackOnly) return sdp;
  return sdp
    .split("\r\n")
    .filter((line) => !line.startsWith("a=candidate:") || isAllowedCandidate(line, true))
    .join("\r\n");
}
