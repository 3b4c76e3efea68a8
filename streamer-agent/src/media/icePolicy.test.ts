import { describe, expect, it } from "vitest";
import { candidateAddress, filterSdpCandidates, isAllowedCandidate, peerIceConfig } from "./icePolicy.js";

const loopback = "candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host";
const lan = "candidate:2 1 udp 2130706431 10.0.0.5 50001 typ host";

describe("ICE policy", () => {
  it("passes on exactly the hub's ICE servers, never werift's public default", () => {
    expect(peerIceConfig([], false).iceServers).toEqual([]);
    const turn = { urls: "turn:turn.example:3478", username: "u", credential: "c" };
    expect(peerIceConfig([turn], false).iceServers).toEqual([turn]);
  });

  it("in loopback-only mode gathers on 127.0.0.1 and pairs only loopback candidates", () => {
    const config = peerIceConfig([{ urls: "stun:stun.example:3478" }], true);
    expect(config.iceServers).toEqual([]);
    expect(config.iceAdditionalHostAddresses).toEqual(["127.0.0.1"]);
    expect(config.iceInterfaceAddresses).toEqual({ udp4: "127.0.0.1" });
  });

  it("reads a candidate's address and allows only loopback ones in loopback-only mode", () => {
    expect(candidateAddress(`a=${lan}`)).toBe("10.0.0.5");
    expect(isAllowedCandidate(loopback, true)).toBe(true);
    expect(isAllowedCandidate(lan, true)).toBe(false);
    expect(isAllowedCandidate(lan, false)).toBe(true);
  });

  it("strips non-loopback candidates from an SDP in loopback-only mode", () => {
    const sdp = ["v=0", `a=${loopback}`, `a=${lan}`, "a=end-of-candidates", ""].join("\r\n");
    expect(filterSdpCandidates(sdp, true)).toBe(
      ["v=0", `a=${loopback}`, "a=end-of-candidates", ""].join("\r\n"),
    );
    expect(filterSdpCandidates(sdp, false)).toBe(sdp);
  });
});
