/** The encoder's settings from the agent's options: one place for both signalling protocols. */
import { videoSize, type AgentOptions } from "../options.js";
import type { EncoderSettings } from "./ffmpegArgs.js";
import { parseSource } from "./source.js";

export function encoderSettings(options: AgentOptions): EncoderSettings {
  return {
    source: parseSource(options.source),
    codec: options.codec,
    ...videoSize(options.size),
    fps: options.fps,
    bitrateKbps: options.bitrate,
    keyframeIntervalFrames: options.keyframeIntervalFrames,
    label: options.id,
  };
}
