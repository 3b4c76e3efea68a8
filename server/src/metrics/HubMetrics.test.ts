import { afterEach, describe, expect, it } from "vitest";
import { startHub, type TestHub } from "../testing/harness.js";

let hubs: TestHub[] = [];
afterEach(async () => {
  await Promise.all(hubs.map((h) => h.close()));
  hubs = [];
});

async function scrape(hub: TestHub): Promise<string> {
  const response = await fetch(`${hub.url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
  return response.text();
}

/** The value of one sample line, e.g. `heartline_sessions{state="live"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("/metrics", () => {
  it("counts sockets, sessions, endings, heartbeat RTTs, relays and refusals from real traffic", async () => {
    const hub = await startHub();
    hubs.push(hub);
    const { s, p, sessionId } = await hub.session("cam1");
    await hub.player();
    s.send({ type: "ping", sessionId, time: 1, rttMs: 30 });
    await p.next("ping");
    p.send({ type: "pong", sessionId, time: 1 });
    await p.next("sessionState", (m) => m.state === "live");
    p.send({ type: "no-such-type" });
    await p.next("error");

    let text = await scrape(hub);
    expect(sample(text, 'heartline_connected_sockets{role="streamer"}')).toBe(1);
    expect(sample(text, 'heartline_connected_sockets{role="player"}')).toBe(2);
    expect(sample(text, 'heartline_connected_sockets{role="admin"}')).toBe(0);
    expect(sample(text, 'heartline_sessions{state="live"}')).toBe(1);
    expect(sample(text, 'heartline_sessions{state="connecting"}')).toBe(0);
    expect(sample(text, "heartline_heartbeat_rtt_seconds_count")).toBe(1);
    expect(sample(text, "heartline_heartbeat_rtt_seconds_sum")).toBeCloseTo(0.03);
    expect(sample(text, 'heartline_heartbeat_rtt_seconds_bucket{le="0.05"}')).toBe(1);
    expect(sample(text, 'heartline_heartbeat_rtt_seconds_bucket{le="0.025"}')).toBe(0);
    // subscribe, ping, pong, the refused one.
    expect(sample(text, "heartline_relay_latency_seconds_count")).toBeGreaterThanOrEqual(4);
    expect(sample(text, 'heartline_rejected_messages_total{code="invalid-message"}')).toBe(1);
    expect(sample(text, 'heartline_rejected_messages_total{code="rate-limited"}')).toBe(0);
    expect(sample(text, 'heartline_session_endings_total{reason="kicked"}')).toBe(0);

    const session = [...hub.hub.registry.sessions()][0];
    if (session) hub.hub.registry.close(session, "kicked");
    p.close();
    await s.next("sessionClosed");
    await expect
      .poll(async () => sample(await scrape(hub), 'heartline_connected_sockets{role="player"}'))
      .toBe(1);
    text = await scrape(hub);
    expect(sample(text, 'heartline_session_endings_total{reason="kicked"}')).toBe(1);
    expect(sample(text, 'heartline_session_endings_total{reason="player-left"}')).toBe(0);
    expect(sample(text, 'heartline_sessions{state="live"}')).toBe(0);
  });

  it("counts applied config reloads", async () => {
    const hub = await startHub();
    hubs.push(hub);
    expect(sample(await scrape(hub), 'heartline_config_reloads_total{result="applied"}')).toBe(0);
    hub.hub.reconfigure(hub.config);
    expect(sample(await scrape(hub), 'heartline_config_reloads_total{result="applied"}')).toBe(1);
    hub.hub.metrics.configReloaded("rejected");
    expect(sample(await scrape(hub), 'heartline_config_reloads_total{result="rejected"}')).toBe(1);
  });

  it("keeps one registry per hub, so two hubs count apart", async () => {
    const [a, b] = await Promise.all([startHub(), startHub()]);
    hubs.push(a, b);
    await a.session("cam1");
    expect(sample(await scrape(a), 'heartline_connected_sockets{role="streamer"}')).toBe(1);
    expect(sample(await scrape(b), 'heartline_connected_sockets{role="streamer"}')).toBe(0);
  });

  it("names every heartline metric with the prefix and base units, with HELP and TYPE", async () => {
    const hub = await startHub();
    hubs.push(hub);
    const text = await scrape(hub);
    const names = [...text.matchAll(/^# TYPE (heartline_\S+) (\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(names.sort()).toEqual([
      "heartline_config_reloads_total counter",
      "heartline_connected_sockets gauge",
      "heartline_handshake_refusals_total counter",
      "heartline_heartbeat_rtt_seconds histogram",
      "heartline_internal_entries gauge",
      "heartline_process_errors_total counter",
      "heartline_rejected_messages_total counter",
      "heartline_relay_latency_seconds histogram",
      "heartline_session_endings_total counter",
      "heartline_sessions gauge",
      "heartline_stalled_readers_total counter",
    ]);
    expect(text).toMatch(/^process_cpu_seconds_total /m);
  });
});
