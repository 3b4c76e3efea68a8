import { describe, expect, it } from "vitest";
import { ConfigError } from "@heartline/shared/config";
import { agentHelp, loadAgentOptions, playerUrl } from "./options.js";

const load = (argv: string[], env: Record<string, string> = {}) => loadAgentOptions({ argv, env }).options;

describe("agent options", () => {
  it("has defaults that stream VP8 640x360@30 with a keyframe every second to a local hub", () => {
    expect(load([])).toEqual({
      hub: "http://127.0.0.1:8080",
      id: "demo",
      codec: "vp8",
      width: 640,
      height: 360,
      fps: 30,
      bitrateKbps: 1000,
      keyframeIntervalFrames: 30,
      loopbackOnly: false,
      logLevel: "info",
      logPingPong: false,
    });
  });

  it("takes flags derived from the keys", () => {
    const options = load([
      "--hub",
      "http://hub.example:9000",
      "--id",
      "cam1",
      "--codec",
      "h264",
      "--keyframe-interval-frames",
      "15",
      "--loopback-only",
      "true",
      "--log-ping-pong",
      "1",
    ]);
    expect(options).toMatchObject({
      hub: "http://hub.example:9000",
      id: "cam1",
      codec: "h264",
      keyframeIntervalFrames: 15,
      loopbackOnly: true,
      logPingPong: true,
    });
  });

  it("takes HEARTLINE_AGENT_* environment variables, and flags win over them", () => {
    expect(load([], { HEARTLINE_AGENT_ID: "from-env", HEARTLINE_AGENT_FPS: "15" })).toMatchObject({
      id: "from-env",
      fps: 15,
    });
    expect(load(["--id", "from-flag"], { HEARTLINE_AGENT_ID: "from-env" }).id).toBe("from-flag");
  });

  it("names the key, the source and what is allowed for a bad value", () => {
    expect(() => load(["--codec", "av1"])).toThrow(ConfigError);
    expect(() => load(["--codec", "av1"])).toThrow(/codec = "av1" \(from --codec\):.*vp8.*h264/);
    expect(() => load(["--id", "no spaces"])).toThrow(
      /id = "no spaces" \(from --id\): must be 1-64 characters/,
    );
    expect(() => load(["--fps", "fast"])).toThrow(/fps = "fast" \(from --fps\)/);
    expect(() => load(["--hub", "ftp://x"])).toThrow(/hub .*must be an http:\/\/ or https:\/\/ URL/);
  });

  it("refuses an unknown flag and points to --help", () => {
    expect(() => load(["--bitrate", "5"])).toThrow(/--help/);
  });

  it("lists every option with its flag, env var and default in --help", () => {
    const help = agentHelp();
    expect(help).toMatch(/^Usage: heartline-agent/);
    expect(help).toContain("--loopback-only <boolean>");
    expect(help).toContain("env: HEARTLINE_AGENT_KEYFRAME_INTERVAL_FRAMES");
    expect(help).toContain('(default: "vp8")');
  });

  it("builds the player URL a person opens to watch", () => {
    expect(playerUrl({ hub: "http://127.0.0.1:8080", id: "cam1" })).toBe(
      "http://127.0.0.1:8080/?streamer=cam1",
    );
  });
});
