/**
 * The Prometheus files in deploy/prometheus/, checked by Debian's `promtool` and a real
 * `prometheus` (package `prometheus`): the rules and the example config are valid, the rules'
 * unit tests pass, and a Prometheus scraping a live hub puts the lapse alert in pending when
 * sessions lapse.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "@heartline/shared/testing";
import type { HubMessage } from "@heartline/shared";
import { sleep, startHub, type TestHub, type TestPeer } from "../testing/harness.js";

const DEPLOY = fileURLToPath(new URL("../../../deploy/prometheus/", import.meta.url));
const RULES = join(DEPLOY, "heartline.rules.yml");
const INTERVAL = 200;
const LAPSES = 20;

/** Runs promtool; resolves with its output, rejects with it when it exits non-zero. */
async function promtool(...args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await promisify(execFile)("promtool", args, { cwd: DEPLOY });
    return stdout + stderr;
  } catch (error) {
    const {
      stdout = "",
      stderr = "",
      message,
    } = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${message}\n${stdout}${stderr}\n(promtool comes with: apt-get install -y prometheus)`);
  }
}

describe("the rules and the example config", () => {
  it("pass promtool check rules, check config and the rules' unit tests", async () => {
    expect(await promtool("check", "rules", "heartline.rules.yml")).toMatch(/SUCCESS: \d+ rules found/);
    expect(await promtool("check", "config", "prometheus.yml")).toMatch(/is valid prometheus config file/);
    expect(await promtool("test", "rules", "heartline.rules.test.yml")).toContain("SUCCESS");
  });
});

/** A real `prometheus` on a free loopback port with its own config and data dir. */
class PrometheusServer {
  readonly #child: ChildProcess;
  #log = "";

  private constructor(
    readonly url: string,
    readonly dir: string,
    args: string[],
  ) {
    this.#child = spawn("prometheus", args, { stdio: ["ignore", "pipe", "pipe"] });
    const keep = (chunk: Buffer): void => {
      this.#log += chunk.toString("utf8");
    };
    this.#child.stdout?.on("data", keep);
    this.#child.stderr?.on("data", keep);
  }

  static async start(config: object): Promise<PrometheusServer> {
    const dir = await mkdtemp(join(tmpdir(), "heartline-prometheus-"));
    const file = join(dir, "prometheus.yml");
    await writeFile(file, JSON.stringify(config)); // JSON is YAML
    const port = await freePort();
    const server = new PrometheusServer(`http://127.0.0.1:${String(port)}`, dir, [
      `--config.file=${file}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${String(port)}`,
      "--log.level=warn",
    ]);
    const spawned = new Promise<never>((_resolve, reject) => {
      server.#child.once("error", (error) => {
        reject(new Error(`could not run prometheus (apt-get install -y prometheus): ${error.message}`));
      });
      server.#child.once("exit", (code) => {
        reject(new Error(`prometheus exited with ${String(code)}:\n${server.#log}`));
      });
    });
    await Promise.race([spawned, server.#until(async () => (await fetch(`${server.url}/-/ready`)).ok)]);
    return server;
  }

  /** GET an API path; the `data` of its JSON answer. */
  async api<T>(path: string): Promise<T> {
    const response = await fetch(`${this.url}/api/v1/${path}`);
    const body = (await response.json()) as { status: string; data: T };
    if (body.status !== "success") throw new Error(`${path}: ${JSON.stringify(body)}`);
    return body.data;
  }

  async alerts(): Promise<{ labels: Record<string, string>; state: string }[]> {
    return (await this.api<{ alerts: { labels: Record<string, string>; state: string }[] }>("alerts")).alerts;
  }

  /** Polls `check` every 250 ms until it is true; at most 20 s (then throws with the log). */
  async #until(check: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < 80; i++) {
      if (await check().catch(() => false)) return;
      await sleep(250);
    }
    throw new Error(`prometheus: condition not met within 20 s; its log:\n${this.#log}`);
  }

  until(check: () => Promise<boolean>): Promise<void> {
    return this.#until(check);
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode === null) {
      const exited = new Promise((resolve) => this.#child.once("exit", resolve));
      this.#child.kill("SIGTERM");
      await exited;
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Pings the session until it is live, then goes silent: the session lapses on the streamer's side. */
async function liveThenSilent(s: TestPeer, p: TestPeer, sessionId: string): Promise<void> {
  p.socket.on("message", (m: HubMessage) => {
    if (m.type === "ping") p.send({ type: "pong", sessionId: m.sessionId, time: m.time });
  });
  const ping = (): void => {
    s.send({ type: "ping", sessionId, time: performance.now() });
  };
  ping();
  const timer = setInterval(ping, INTERVAL);
  try {
    await s.next("sessionState", (m) => m.sessionId === sessionId && m.state === "live");
  } finally {
    clearInterval(timer);
  }
}

let hub: TestHub | undefined;
let prometheus: PrometheusServer | undefined;
afterEach(async () => {
  await prometheus?.stop();
  await hub?.close();
  prometheus = hub = undefined;
});

describe("a real Prometheus scraping a live hub", () => {
  it("puts HeartlineLapseRateSpike in pending when sessions lapse, and not before", async () => {
    hub = await startHub({ heartbeat: { intervalMs: INTERVAL, missedBeats: 2 } });
    const h = hub;
    prometheus = await PrometheusServer.start({
      global: { scrape_interval: "1s", evaluation_interval: "1s" },
      rule_files: [RULES],
      scrape_configs: [{ job_name: "heartline", static_configs: [{ targets: [new URL(h.url).host] }] }],
    });
    const prom = prometheus;

    // A first sample of the counter at 0, so the lapses below are an increase rate() sees.
    await prom.until(async () => {
      const data = await prom.api<{ result: unknown[] }>(
        `query?query=${encodeURIComponent('heartline_session_endings_total{reason="streamer-heartbeat-timeout"} == 0')}`,
      );
      return data.result.length === 1;
    });
    // With a live hub and no lapses, the rules evaluate and nothing is active.
    await prom.until(async () => (await prom.api<{ groups: unknown[] }>("rules")).groups.length === 1);
    expect(await prom.alerts()).toEqual([]);

    // The rule fires above 0.05 lapses/s over 5 minutes, i.e. more than 15 in 5 minutes: 20 lapse.
    const ids = ["cam1", "cam2", "cam3", "cam4"];
    for (const id of ids) await h.streamer(id);
    const sessions = await Promise.all(
      Array.from({ length: LAPSES }, (_, i) => h.session(ids[i % ids.length])),
    );
    await Promise.all(sessions.map(({ s, p, sessionId }) => liveThenSilent(s, p, sessionId)));
    const endings = await Promise.all(sessions.map(({ p }) => p.next("sessionClosed")));
    expect(endings.map((m) => m.reason)).toEqual(Array(LAPSES).fill("streamer-heartbeat-timeout"));

    let lapse: { labels: Record<string, string>; state: string } | undefined;
    await prom.until(async () => {
      lapse = (await prom.alerts()).find((a) => a.labels.alertname === "HeartlineLapseRateSpike");
      return lapse !== undefined;
    });
    expect(lapse).toMatchObject({
      state: expect.stringMatching(/^(pending|firing)$/) as unknown,
      labels: { severity: "warning", job: "heartline", instance: new URL(h.url).host },
    });
  }, 40_000);
});
