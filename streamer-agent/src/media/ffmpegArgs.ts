/**
 * The ffmpeg command line of the encoder: the source (a live test pattern with the streamer id,
 * a frame counter and the wall clock burnt in, a looped media file, or any ffmpeg input), scaled
 * and re-timed to the configured size and rate, encoded once and sent as RTP to the agent on
 * loopback. Pure, so the flags can be read (and tested) without starting a process.
 */
import type { VideoCodec } from "../options.js";
import type { VideoSource } from "./source.js";

export const FONT_FILE = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

/** RTP payload of at most 1200 bytes leaves room for SRTP and header extensions within a 1280-byte path MTU. */
export const RTP_PACKET_SIZE = 1200;

export interface EncoderSettings {
  source: VideoSource;
  codec: VideoCodec;
  width: number;
  height: number;
  fps: number;
  bitrateKbps: number;
  keyframeIntervalFrames: number;
  /** Shown in the picture, so a viewer can tell streams apart. */
  label: string;
}

/** The test pattern's burnt-in id, frame counter and clock (drawtext needs FONT_FILE). */
function overlayFilter(settings: EncoderSettings): string {
  const fontsize = Math.max(12, Math.round(settings.height / 15));
  const box = `fontfile=${FONT_FILE}:fontsize=${fontsize}:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=6`;
  // Bottom-left, counted upwards: players draw their status overlay in the top-left corner.
  const line = (text: string, rowFromBottom: number): string =>
    `drawtext=${box}:x=${fontsize}:y=h-${fontsize * (2 + rowFromBottom * 2)}:text='${text}'`;
  return [
    // The label is a StreamerId: letters, digits, '.', '_', '-' only, so it needs no escaping here.
    line(`${settings.label}  frame %{frame_num}`, 1),
    line("%{localtime}", 0),
    "format=yuv420p",
  ].join(",");
}

/**
 * Any other source: fit it into the configured size keeping its aspect ratio (black bars, not a
 * stretched picture), then drop or repeat frames to the configured rate, so the encoder's
 * settings (bitrate per frame, keyframe interval in frames) hold whatever the input is.
 */
function fitFilter(settings: EncoderSettings): string {
  const { width, height, fps } = settings;
  return [
    `scale=${width}:${height}:force_original_aspect_ratio=decrease`,
    `pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2`,
    "setsar=1",
    `fps=${fps}`,
    "format=yuv420p",
  ].join(",");
}

function inputArgs(settings: EncoderSettings): string[] {
  const { source } = settings;
  switch (source.kind) {
    case "testpattern":
      // prettier-ignore
      return [
        "-re",
        "-f", "lavfi",
        "-i", `testsrc2=size=${settings.width}x${settings.height}:rate=${settings.fps}`,
        "-vf", overlayFilter(settings),
      ];
    case "file":
      // Loop forever, read at the file's own pace (-re): a file is a live stream here.
      // prettier-ignore
      return [
        "-stream_loop", "-1",
        "-re",
        "-i", source.path,
        "-map", "0:v:0",
        "-vf", fitFilter(settings),
      ];
    case "ffmpeg":
      // The operator's input options as given: a device paces itself, so no -re.
      // prettier-ignore
      return [
        ...source.args,
        "-map", "0:v:0",
        "-vf", fitFilter(settings),
      ];
  }
}

function codecArgs(settings: EncoderSettings): string[] {
  const rate = `${settings.bitrateKbps}k`;
  const gop = String(settings.keyframeIntervalFrames);
  switch (settings.codec) {
    case "vp8":
      // prettier-ignore
      return [
        "-c:v", "libvpx",
        // Real-time mode, fastest preset: the notes measured VP8 at 25-34 % of a core at 640x360.
        "-deadline", "realtime", "-cpu-used", "8",
        // No look-ahead or alt-ref frames: they add latency and hidden frames a live stream does not want.
        "-lag-in-frames", "0", "-auto-alt-ref", "0",
        // Lets the decoder carry on after a lost packet instead of freezing until the next keyframe.
        "-error-resilient", "1",
        "-g", gop, "-keyint_min", gop,
        "-b:v", rate, "-maxrate", rate, "-bufsize", `${settings.bitrateKbps * 2}k`,
      ];
    case "h264":
      // prettier-ignore
      return [
        "-c:v", "libx264",
        "-preset", "ultrafast", "-tune", "zerolatency",
        // Constrained baseline 3.1 = profile-level-id 42e01f, which every WebRTC browser decodes.
        "-profile:v", "baseline", "-level:v", "3.1",
        "-g", gop, "-keyint_min", gop,
        "-b:v", rate, "-maxrate", rate, "-bufsize", `${settings.bitrateKbps * 2}k`,
        // SPS/PPS before every keyframe: a player joining mid-stream can decode the next keyframe.
        "-x264-params", "repeat-headers=1",
      ];
  }
}

/**
 * `rtcpport` is the RTP port itself: ffmpeg's sender reports then arrive on the agent's own
 * socket (where it drops them) instead of at port+1, which may belong to another process.
 */
export function ffmpegArgs(settings: EncoderSettings, rtpPort: number): string[] {
  // prettier-ignore
  return [
    "-hide_banner", "-nostdin",
    "-loglevel", "warning",
    ...inputArgs(settings),
    "-an",
    ...codecArgs(settings),
    "-f", "rtp",
    `rtp://127.0.0.1:${rtpPort}?pkt_size=${RTP_PACKET_SIZE}&rtcpport=${rtpPort}`,
  ];
}
