/**
 * The RTP codec each `--codec` negotiates. The parameters must describe what ffmpegArgs.ts
 * produces: H.264 constrained baseline 3.1 in packetization mode 1 (profile-level-id 42e01f).
 */
import { useH264, useVP8, type RTCRtpCodecParameters } from "werift";
import type { VideoCodec } from "../options.js";

export function rtpCodec(codec: VideoCodec): RTCRtpCodecParameters {
  switch (codec) {
    case "vp8":
      return useVP8();
    case "h264":
      return useH264({
        parameters: "profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1",
      });
  }
}

/** The MIME type as it appears in a negotiated SDP's rtpmap, lowercased for comparison. */
export function rtpMimeType(codec: VideoCodec): string {
  return codec === "vp8" ? "video/vp8" : "video/h264";
}
