import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import pino from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { HubConfigSchema, loadConfig, type HubConfig } from "@heartline/shared/config";
import { ConfigReloader } from "./ConfigReloader.js";

function setup(initial: Record<string, unknown>) {
  const dir = mkdtempSync(join(tmpdir(), "heartline-reload-"));
  const file = join(dir, "heartline.config.json");
  const write = (content: Record<string, unknown> | string): void => {
    writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content));
  };
  write(initial);
  const load = (): HubConfig =>
    loadConfig(HubConfigSchema, { envPrefix: "HEARTLINE", argv: ["--config", file], env: {} }).config;
  const logs: Record<string, unknown>[] = [];
  const logger = pino(
    { level: "debug" },
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        logs.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        cb();
      },
    }),
  );
  const apply = vi.fn<(config: HubConfig, changed: string[]) => void>();
  const reloader = new ConfigReloader({ load, current: load(), file, apply, logger, debounceMs: 20 });
  return { file, write, apply, logs, reloader };
}

let active: ConfigReloader | undefined;
afterEach(() => {
  active?.stop();
  active = undefined;
});

describe("ConfigReloader", () => {
  it("applies a heartbeat change when the watched file is edited", async () => {
    const t = setup({ heartbeat: { intervalMs: 1000 } });
    active = t.reloader;
    t.reloader.start();
    t.write({ heartbeat: { intervalMs: 2000, missedBeats: 4 } });
    await vi.waitFor(() => {
      expect(t.apply).toHaveBeenCalledTimes(1);
    });
    const [config, changed] = t.apply.mock.calls[0] ?? [];
    expect(config?.heartbeat).toMatchObject({ intervalMs: 2000, missedBeats: 4 });
    expect(changed).toEqual(["heartbeat.intervalMs", "heartbeat.missedBeats"]);
    expect(t.reloader.current.heartbeat.intervalMs).toBe(2000);
  });

  it("rejects an invalid edit with a log line naming the problem, and keeps the running config", () => {
    const t = setup({ heartbeat: { intervalMs: 1000 } });
    t.write({ heartbeat: { intervalMs: -5 } });
    expect(t.reloader.reload("test")).toBe(false);
    t.write("{ not json");
    expect(t.reloader.reload("test")).toBe(false);
    expect(t.apply).not.toHaveBeenCalled();
    expect(t.reloader.current.heartbeat.intervalMs).toBe(1000);
    const rejected = t.logs.filter((l) => l.msg === "config change rejected; the running config stays");
    expect(rejected).toHaveLength(2);
    expect(JSON.stringify(rejected[0]?.problems)).toContain("heartbeat.intervalMs = -5");
  });

  it("reloads on SIGHUP", () => {
    const t = setup({ heartbeat: { intervalMs: 1000 } });
    active = t.reloader;
    t.reloader.start();
    t.write({ heartbeat: { intervalMs: 1500 } });
    process.emit("SIGHUP", "SIGHUP");
    expect(t.apply).toHaveBeenCalledTimes(1);
    expect(t.logs).toContainEqual(expect.objectContaining({ msg: "config reloaded", trigger: "SIGHUP" }));
  });

  it("says which changes need a restart and does not apply them", () => {
    const t = setup({ port: 8080 });
    t.write({ port: 9090 });
    expect(t.reloader.reload("test")).toBe(false);
    expect(t.apply).not.toHaveBeenCalled();
    expect(t.logs).toContainEqual(expect.objectContaining({ keys: ["port"], level: 40 }));
  });

  it("does nothing when nothing changed", () => {
    const t = setup({ heartbeat: { intervalMs: 1000 } });
    t.write({ heartbeat: { intervalMs: 1000 } });
    expect(t.reloader.reload("test")).toBe(false);
    expect(t.apply).not.toHaveBeenCalled();
  });
});
