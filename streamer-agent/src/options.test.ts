import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ConfigError, configKeys } from "@heartline/shared/config";
import {
  AgentOptionsSchema,
  agentHelp,
  loadAgentOptions,
  playerUrl,
  psStreamerUrl,
  videoSize,
} from "./options.js";

const load = (argv: string[], env: Record<string, string> = {}) => loadAgentOptions({ argv, env }).options;

describe("agent options", () => {
  it("has defaults that stream VP8 640x360@30 with a keyframe every second to a local hub", () => {
    expect(load([])).toEqual({
      protocol: "heartline",
      hub: "http://127.0.0.1:8080",
      id: "demo",
      source: "testpattern",
      codec: "vp8",
      size: "640x360",
      fps: 30,
      bitrate: 1000,
      keyframeIntervalFrames: 30,
      loopbackOnly: false,
      logLevel: "info",
      logPingPong: false,
      psPingIntervalMs: 30_000,
      psReconnectMs: 2_000,
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
    expect(() => load(["--width", "5"])).toThrow(/--help/);
  });

  it("takes --size, --fps and --bitrate (kbit/s), and says what a bad one should look like", () => {
    const options = load(["--size", "1280x720", "--fps", "25", "--bitrate", "2500"]);
    expect(options).toMatchObject({ size: "1280x720", fps: 25, bitrate: 2500 });
    expect(videoSize(options.size)).toEqual({ width: 1280, height: 720 });
    expect(() => load(["--size", "1280*720"])).toThrow(
      /size = "1280\*720" \(from --size\): must be <width>x<height>/,
    );
    expect(() => load(["--size", "1281x720"])).toThrow(/must be even/);
    expect(() => load(["--size", "8000x720"])).toThrow(/between 16x16 and 3840x2160/);
    expect(() => load(["--bitrate", "1.5M"])).toThrow(
      /bitrate = "1.5M" \(from --bitrate\): must be a whole number of kbit\/s/,
    );
    expect(() => load(["--bitrate", "5"])).toThrow(/at least 50 \(kbit\/s\)/);
  });

  it("takes a media file or an ffmpeg input as --source, and names a missing file", () => {
    const dir = mkdtempSync(join(tmpdir(), "heartline-options-"));
    try {
      const clip = join(dir, "clip.mp4");
      writeFileSync(clip, "");
      expect(load(["--source", clip]).source).toBe(clip);
      expect(load(["--source", "ffmpeg:-f v4l2 -i /dev/video0"]).source).toBe(
        "ffmpeg:-f v4l2 -i /dev/video0",
      );
      const missing = join(dir, "missing.mp4");
      expect(() => load(["--source", missing])).toThrow(`media file ${missing} does not exist`);
      expect(() => load(["--source", "ffmpeg:-f v4l2 /dev/video0"])).toThrow(/needs "-i <input>"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("takes the streamer key from --key or HEARTLINE_AGENT_KEY, and never repeats it in an error", () => {
    expect(load(["--key", "k".repeat(32)]).key).toBe("k".repeat(32));
    expect(load([], { HEARTLINE_AGENT_KEY: "from-env-key-0123456789" }).key).toBe("from-env-key-0123456789");
    expect(load([]).key).toBeUndefined();
    const secret = `s3cret-${"x".repeat(300)}`;
    let message = "";
    try {
      load([], { HEARTLINE_AGENT_KEY: secret });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^key = <hidden> \(from env HEARTLINE_AGENT_KEY\): /);
    expect(message).not.toContain("s3cret");
  });

  it("lists every option with its flag, env var and default in --help", () => {
    const help = agentHelp();
    expect(help).toMatch(/^Usage: heartline-agent/);
    expect(help).toContain("--loopback-only <boolean>");
    expect(help).toContain("env: HEARTLINE_AGENT_KEYFRAME_INTERVAL_FRAMES");
    expect(help).toContain('(default: "vp8")');
    expect(help).toContain("--key <string>");
    expect(help).toContain("env: HEARTLINE_AGENT_KEY");
    expect(help).toMatch(
      /--source <string>\n.*testpattern, a media file \(looped\), or ffmpeg:<ffmpeg input options>/,
    );
    expect(help).toContain('(default: "testpattern")');
    expect(help).toContain("Sources (--source):");
    expect(help).toContain("--size <string>");
    expect(help).toContain("--bitrate <number>");
    // Every option in the table appears with its env var, and each has a default (or "none").
    for (const name of Object.keys(AgentOptionsSchema.shape)) {
      const env = `HEARTLINE_AGENT_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
      expect(help).toContain(`env: ${env}`);
    }
    expect(help.match(/\(default:/g)).toHaveLength(Object.keys(AgentOptionsSchema.shape).length + 1);
  });

  it("is documented option for option in both READMEs, like --help", () => {
    const keys = configKeys(AgentOptionsSchema, "HEARTLINE_AGENT");
    for (const readme of ["../README.md", "../../README.md"]) {
      const text = readFileSync(fileURLToPath(new URL(readme, import.meta.url)), "utf8");
      for (const key of keys) {
        expect(text, `${readme} documents --${key.flag}`).toContain(`\`--${key.flag}`);
        expect(text, `${readme} documents ${key.env}`).toContain(`\`${key.env}\``);
      }
    }
  });

  it("takes a ws:// signalling URL only with --protocol pixelstreaming", () => {
    expect(load(["--protocol", "pixelstreaming", "--hub", "ws://127.0.0.1:18888"]).hub).toBe(
      "ws://127.0.0.1:18888",
    );
    expect(() => load(["--hub", "ws://127.0.0.1:8080/ps/streamer"])).toThrow(
      /hub .*ws:\/\/ is for --protocol pixelstreaming/,
    );
    expect(() => load(["--protocol", "unreal"])).toThrow(/protocol = "unreal".*heartline.*pixelstreaming/);
  });

  it("maps an http(s) hub onto its Pixel Streaming streamer endpoint, and keeps a ws(s) URL as given", () => {
    expect(psStreamerUrl("http://127.0.0.1:8080")).toBe("ws://127.0.0.1:8080/ps/streamer");
    expect(psStreamerUrl("https://hub.example")).toBe("wss://hub.example/ps/streamer");
    expect(psStreamerUrl("http://hub.example/ps/streamer?key=k")).toBe("ws://hub.example/ps/streamer?key=k");
    expect(psStreamerUrl("ws://127.0.0.1:18888")).toBe("ws://127.0.0.1:18888/");
    expect(psStreamerUrl("wss://hub.example/ps/streamer?key=k")).toBe("wss://hub.example/ps/streamer?key=k");
  });

  it("builds the player URL a person opens to watch", () => {
    expect(playerUrl({ hub: "http://127.0.0.1:8080", id: "cam1" })).toBe(
      "http://127.0.0.1:8080/?streamer=cam1",
    );
  });
});
