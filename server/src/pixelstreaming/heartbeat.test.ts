/**
 * The heartbeat for clients that cannot change, on a real hub and real WebSockets: Epic's
 * frontend is pinged with JSON (it answers from its message handler, so a frozen tab stops
 * answering), Unreal with WebSocket control pings; a lapse ends the session on both ends with
 * heartline's reason, and a dropped streamer's players are held until the same id returns.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startHub, type TestHub } from "../testing/harness.js";
import { RawPs } from "./testing/RawPs.js";

const INTERVAL = 100;
const MISSED = 3;
const TIMEOUT = INTERVAL * MISSED;

const hubs: TestHub[] = [];
const peers: RawPs[] = [];
afterEach(async () => {
  for (const peer of peers.splice(0)) peer.ws.terminate();
  await Promise.all(hubs.splice(0).map((h) => h.close()));
});

async function psHub(pixelStreaming: Record<string, unknown> = {}): Promise<TestHub & { ws: string }> {
  const hub = await startHub({
    heartbeat: { intervalMs: INTERVAL, missedBeats: MISSED },
    pixelStreaming: { enabled: true, ...pixelStreaming },
  });
  hubs.push(hub);
  return Object.assign(hub, { ws: hub.url.replace(/^http/, "ws") });
}

async function streamer(hub: { ws: string }, id = "ue", autoPong = true) {
  const result = await RawPs.streamer(`${hub.ws}/ps/streamer`, id, { autoPong });
  peers.push(result.s);
  return result;
}

async function player(hub: { ws: string }): Promise<RawPs> {
  const p = await RawPs.connect(`${hub.ws}/`);
  peers.push(p);
  await p.next("config");
  return p;
}

/** A subscribed player; resolves to its hub-issued player id. */
async function subscribe(p: RawPs, s: RawPs, streamerId: string, nth = 0): Promise<string> {
  p.send({ type: "subscribe", streamerId });
  const connected = await s.next("playerConnected", nth);
  return String(connected.playerId);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("Pixel Streaming players", () => {
  it("are pinged with JSON every interval; answering keeps the session, makes it live and gives it an RTT", async () => {
    const hub = await psHub();
    const { s, committedId } = await streamer(hub);
    const p = await player(hub);
    await subscribe(p, s, committedId);
    await sleep(TIMEOUT * 4);
    expect(p.all("ping").length).toBeGreaterThanOrEqual(8);
    for (const ping of p.all("ping")) expect(Object.keys(ping).sort()).toEqual(["time", "type"]);
    const [session] = [...hub.hub.registry.sessions()];
    expect(session?.state).toBe("live");
    expect(session?.heartbeat.rttMs).toBeGreaterThanOrEqual(0);
    expect(p.closed).toBeUndefined();
    // Pings are the hub's own, hop by hop: the streamer never sees them.
    expect(s.all("ping")).toEqual([]);
  });

  it("a frozen tab (pings unanswered) ends as player-heartbeat-timeout: the streamer hears playerDisconnected, the slot is free", async () => {
    const hub = await psHub({});
    const { s, committedId } = await streamer(hub);
    const p = await player(hub);
    const playerId = await subscribe(p, s, committedId);
    p.answerPings = false;
    const started = performance.now();
    const gone = await s.next("playerDisconnected", 0, TIMEOUT * 10);
    expect(gone).toEqual({ type: "playerDisconnected", playerId });
    // Within the timeout plus the one beat a player always gets to answer, plus scheduling.
    expect(performance.now() - started).toBeLessThan(TIMEOUT * 3);
    expect(await p.closedWith()).toEqual({ code: 4000, reason: "player-heartbeat-timeout" });
    expect(hub.hub.registry.sessionCount).toBe(0);
    const ended = hub.logs.find((l) => l.msg === "session closed");
    expect(ended).toMatchObject({ reason: "player-heartbeat-timeout", streamerId: committedId });
    const metrics = await (await fetch(`${hub.url}/metrics`)).text();
    expect(metrics).toContain('heartline_session_endings_total{reason="player-heartbeat-timeout"} 1');
    expect(metrics).toContain('heartline_ps_sockets{role="streamer"} 1');
    expect(metrics).toMatch(/^heartline_ps_relayed_total\{from="streamer"\} 0$/m);
    expect(metrics).toMatch(/^heartline_ps_dropped_total\{from="player",reason="invalid"\} 0$/m);
  });

  it("with playerPing=ws the browser's WebSocket pongs count instead, and no JSON ping is sent", async () => {
    const hub = await psHub({ playerPing: "ws" });
    const { s, committedId } = await streamer(hub);
    const p = await player(hub);
    p.answerPings = false;
    await subscribe(p, s, committedId);
    await sleep(TIMEOUT * 3);
    expect(p.all("ping")).toEqual([]);
    expect(hub.hub.registry.sessionCount).toBe(1);
    expect(s.all("playerDisconnected")).toEqual([]);
  });
});

describe("Pixel Streaming streamers", () => {
  it("are supervised with WebSocket pings: a hung one ends as streamer-heartbeat-timeout and its socket is cut", async () => {
    const hub = await psHub({ streamerGraceMs: 60_000 });
    const { s, committedId } = await streamer(hub, "hang", false);
    const p = await player(hub);
    await subscribe(p, s, committedId);
    await s.closedWith(TIMEOUT * 10);
    expect(hub.hub.registry.sessionCount).toBe(0);
    const ended = hub.logs.find((l) => l.msg === "session closed");
    expect(ended).toMatchObject({ reason: "streamer-heartbeat-timeout" });
    // The player is held for the streamer's return, not closed.
    await sleep(INTERVAL * 3);
    expect(p.closed).toBeUndefined();
  });

  it("one that answers WebSocket pings stays connected and listed with no JSON traffic at all", async () => {
    const hub = await psHub();
    const { s, committedId } = await streamer(hub);
    await sleep(TIMEOUT * 4);
    expect(s.closed).toBeUndefined();
    expect(hub.hub.registry.listStreamers("pixelstreaming")).toEqual([
      { streamerId: committedId, players: 0 },
    ]);
    expect(s.frames.map((f) => f.type)).toEqual(["identify", "config", "endpointIdConfirm"]);
  });
});

describe("a streamer that drops and comes back", () => {
  it("gets its held players back: one streamerList each, they re-subscribe, the same player id", async () => {
    // Grace far past Epic's own ~11 s budget, scaled down: the streamer is away 20 intervals.
    const hub = await psHub({ streamerGraceMs: INTERVAL * 50 });
    const first = await streamer(hub, "ue5");
    const p = await player(hub);
    const playerId = await subscribe(p, first.s, "ue5");
    first.s.close();
    await first.s.closedWith();
    await sleep(INTERVAL * 20);
    expect(p.closed).toBeUndefined();
    expect(p.all("streamerList")).toEqual([]);
    const second = await streamer(hub, "ue5");
    expect(second.committedId).toBe("ue5");
    const nudge = await p.next("streamerList");
    expect(nudge).toEqual({ type: "streamerList", ids: ["ue5"] });
    // Epic's frontend re-subscribes on that list (its StreamerId setter); so does this player.
    const again = await subscribe(p, second.s, "ue5");
    expect(again).toBe(playerId);
    await sleep(INTERVAL * 3);
    expect(p.all("streamerList")).toHaveLength(1);
  });

  it("closes the held players with 4000 streamer-left when the grace runs out", async () => {
    const hub = await psHub({ streamerGraceMs: INTERVAL * 5 });
    const { s } = await streamer(hub, "ue5");
    const p = await player(hub);
    await subscribe(p, s, "ue5");
    s.close();
    expect(await p.closedWith()).toEqual({ code: 4000, reason: "streamer-left" });
  });
});
