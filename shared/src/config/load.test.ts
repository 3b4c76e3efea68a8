import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  ConfigError,
  configHelp,
  configKeys,
  HubConfigSchema,
  heartbeatSettings,
  loadConfig,
} from "./index.js";

const PREFIX = "HEARTLINE";

function dirWith(file: Record<string, unknown> | string | undefined): string {
  const dir = mkdtempSync(join(tmpdir(), "heartline-config-"));
  if (file !== undefined) {
    writeFileSync(join(dir, "heartline.config.json"), typeof file === "string" ? file : JSON.stringify(file));
  }
  return dir;
}

function load(options: {
  argv?: string[];
  env?: Record<string, string>;
  file?: Record<string, unknown> | string;
}) {
  return loadConfig(HubConfigSchema, {
    envPrefix: PREFIX,
    argv: options.argv ?? [],
    env: options.env ?? {},
    cwd: dirWith(options.file),
    defaultFile: "heartline.config.json",
  });
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("config loading", () => {
  it("has safe defaults: loopback, 5 s interval, 3 missed beats, no ICE servers", () => {
    const { config, sources } = load({});
    expect(config).toMatchObject({
      port: 8080,
      host: "127.0.0.1",
      heartbeat: { intervalMs: 5000, missedBeats: 3, logPingPong: false },
      iceServers: [],
    });
    expect(heartbeatSettings(config)).toEqual({
      intervalMs: 5000,
      timeoutMs: 15000,
      staleAfterMs: 7500,
      resumeGraceMs: 15000,
    });
    expect(config.heartbeat.enforce).toBe(true);
    expect(Object.values(sources).every((s) => s === "default")).toBe(true);
  });

  it("applies file < env < flags, key by key", () => {
    const { config, sources } = load({
      file: { port: 1000, heartbeat: { intervalMs: 1000, missedBeats: 5 } },
      env: { HEARTLINE_PORT: "2000", HEARTLINE_HEARTBEAT_INTERVAL_MS: "2000" },
      argv: ["--heartbeat-interval-ms", "3000"],
    });
    expect(config.port).toBe(2000);
    expect(config.heartbeat).toMatchObject({ intervalMs: 3000, missedBeats: 5 });
    expect(sources).toMatchObject({
      port: "env",
      "heartbeat.intervalMs": "flag",
      "heartbeat.missedBeats": "file",
    });
  });

  it("derives the stale threshold and the resume grace, which may be set on its own", () => {
    const { config } = load({
      argv: ["--heartbeat-interval-ms", "1000", "--heartbeat-resume-grace-ms", "0"],
    });
    expect(heartbeatSettings(config)).toEqual({
      intervalMs: 1000,
      timeoutMs: 3000,
      staleAfterMs: 1500,
      resumeGraceMs: 0,
    });
  });

  it("reads booleans and JSON from env and flags", () => {
    const { config } = load({
      env: { HEARTLINE_HEARTBEAT_LOG_PING_PONG: "true" },
      argv: ["--ice-servers", '[{"urls":"stun:127.0.0.1:3478"}]'],
    });
    expect(config.heartbeat.logPingPong).toBe(true);
    expect(config.iceServers).toEqual([{ urls: "stun:127.0.0.1:3478" }]);
  });

  it("reads --config <path> and refuses a missing one", () => {
    const dir = dirWith({ port: 4321 });
    expect(load({ argv: ["--config", join(dir, "heartline.config.json")] }).config.port).toBe(4321);
    expect(problemsOf(() => load({ argv: ["--config", "/nonexistent/x.json"] }))[0]).toMatch(
      /does not exist/,
    );
  });

  it.each([
    [
      { argv: ["--heartbeat-interval-ms", "abc"] },
      /^heartbeat\.intervalMs = "abc" \(from --heartbeat-interval-ms\): .*number/,
    ],
    [
      { env: { HEARTLINE_HEARTBEAT_MISSED_BEATS: "0" } },
      /^heartbeat\.missedBeats = 0 \(from env HEARTLINE_HEARTBEAT_MISSED_BEATS\): .*>=1/,
    ],
    [{ file: { port: 70000 } }, /^port = 70000 \(from .*heartline\.config\.json\): .*<=65535/],
    [{ file: { heartbeat: { intervalMS: 5 } } }, /^heartbeat.*intervalMS/],
    [{ file: "{ not json" }, /is not valid JSON/],
    [{ argv: ["--no-such-flag"] }, /no-such-flag.*--help/],
    [{ argv: ["--ice-servers", "[{}]"] }, /^iceServers\.0\.urls/],
  ])("stops with a message naming the key, the value and the rule: %j", (options, pattern) => {
    const problems = problemsOf(() => load(options));
    expect(problems.join("\n")).toMatch(pattern);
  });

  it("derives every env var and flag from the key path", () => {
    const keys = configKeys(HubConfigSchema, PREFIX);
    expect(keys.find((k) => k.path === "heartbeat.intervalMs")).toMatchObject({
      env: "HEARTLINE_HEARTBEAT_INTERVAL_MS",
      flag: "heartbeat-interval-ms",
      kind: "number",
      defaultValue: 5000,
    });
    expect(keys.every((k) => k.description.length > 0)).toBe(true);
    const help = configHelp(HubConfigSchema, PREFIX);
    for (const key of keys) {
      expect(help).toContain(`--${key.flag}`);
      expect(help).toContain(key.env);
    }
  });
});
