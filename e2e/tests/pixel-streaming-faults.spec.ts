/**
 * Pixel Streaming faults as a person meets them: Epic's own frontend (served at /ps/) plays the
 * agent's video (`--protocol pixelstreaming`, Unreal's side of the protocol) through the real
 * hub in Debian's chromium; then a tab freezes, the streamer dies and comes back, an operator
 * kicks the player, and we read what the page, the hub and the agent report. The streamer's return
 * and the kick run on both of Epic's frontends (UE5.5 at /ps/, UE5.7 at /ps/ue5.7/): they are
 * where the two could differ (how a `streamerList` and a close code are handled).
 */
import type { Page } from "@playwright/test";
import { expect, test, type Processes } from "./support/fixtures.js";
import {
  countPresentedFrames,
  decodedFrames,
  framesDecodedOver,
  pageSockets,
  presentedFrames,
  sustainedFrom,
  psEvents,
  recordPsEvents,
  recordSockets,
  waitForPsEvent,
} from "./support/epic-player.js";
import type { HubProcess, LogLine, Managed } from "./support/processes.js";

const TOKEN = "e2e-admin-token-0123456789";
const PS = ["--pixel-streaming-enabled", "true", "--admin-token", TOKEN];

interface ApiSession {
  id: string;
  streamerId: string;
  playerId: string;
  state: string;
}

async function api(hub: HubProcess, path: string, method = "GET"): Promise<Response> {
  return fetch(`${hub.url}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}` } });
}

async function sessions(hub: HubProcess): Promise<ApiSession[]> {
  const response = await api(hub, "/api/sessions");
  expect(response.status).toBe(200);
  return ((await response.json()) as { sessions: ApiSession[] }).sessions;
}

/** pino's `time` (epoch ms, the hub's wall clock: the same machine as the test's). */
const timeOf = (line: LogLine): number => line.time as number;

const playersConnected = (hub: HubProcess): LogLine[] =>
  hub.logs.filter((l) => l.msg === "Pixel Streaming player connected");

/** The agent as a Pixel Streaming streamer (Unreal's side of the protocol). */
const psAgent = (procs: Processes, hub: HubProcess, streamerId: string): Promise<Managed> =>
  procs.agent(hub.url, streamerId, ["--protocol", "pixelstreaming"]);

/** Opens Epic's page on `streamerId` and waits until its video is decoding. */
async function play(page: Page, hub: HubProcess, streamerId: string, path = "/ps/"): Promise<void> {
  await recordPsEvents(page);
  await recordSockets(page);
  // Epic's page waits for a click unless told to connect; the URL settings are Epic's own.
  await page.goto(`${hub.url}${path}?AutoConnect=true&StreamerId=${streamerId}`);
  await waitForPsEvent(page, "playStream", 30_000);
  await expect.poll(() => framesDecodedOver(page, 500), { timeout: 15_000 }).toBeGreaterThan(5);
}

async function shot(page: Page, name: string): Promise<void> {
  const path = test.info().outputPath(`${name}.png`);
  await page.screenshot({ path });
  await test.info().attach(name, { path, contentType: "image/png" });
}

test("a frozen Epic frontend tab is reaped as player-heartbeat-timeout and its maxPlayers slot is freed", async ({
  context,
  page,
  procs,
}) => {
  const intervalMs = 500;
  const timeoutMs = intervalMs * 2;
  const hub = await procs.hub([
    ...PS,
    "--heartbeat-interval-ms",
    String(intervalMs),
    "--heartbeat-missed-beats",
    "2",
    "--max-players",
    "1",
  ]);
  const streamerId = "ps-freeze";
  const agent = await psAgent(procs, hub, streamerId);
  await play(page, hub, streamerId);
  await shot(page, "freeze-1-playing");
  const [session] = await sessions(hub);
  expect(session).toMatchObject({ streamerId, state: "live" });
  const playerId = session?.playerId ?? "";
  const sessionId = session?.id ?? "";

  // The slot is taken: a second tab is refused in Wilbur's words, and goes.
  const refused = await context.newPage();
  await recordPsEvents(refused);
  await refused.goto(`${hub.url}/ps/?AutoConnect=true&StreamerId=${streamerId}`);
  await waitForPsEvent(refused, "subscribeFailed", 20_000);
  const failed = (await psEvents(refused)).find((e) => e.name === "subscribeFailed");
  expect(failed?.data?.message).toBe(`Streamer ${streamerId} is full. Max players = 1.`);
  await shot(refused, "freeze-2-second-tab-refused");
  await refused.close();

  // Freeze the first tab: its JavaScript stops, its socket stays open and silent.
  const cdp = await context.newCDPSession(page);
  await cdp.send("Debugger.enable");
  const frozenAt = Date.now();
  await cdp.send("Debugger.pause");
  const closed = await hub.waitForLog(
    (l) => l.msg === "session closed" && l.sessionId === sessionId,
    timeoutMs + 10_000,
    "'session closed'",
  );
  const reapedMs = timeOf(closed) - frozenAt;
  expect(closed.reason).toBe("player-heartbeat-timeout");
  expect(closed.playerId).toBe(playerId);
  // Upper bound: the timeout, one more interval for the ping in flight, and slack for 2 cores.
  expect(reapedMs).toBeLessThan(timeoutMs + intervalMs + 2000);

  // The streamer heard playerDisconnected for exactly that player.
  const agentClosed = await agent.waitForLog(
    (l) => l.msg === "session closed" && l.playerId === playerId,
    5000,
    "the agent's 'session closed'",
  );
  expect(agentClosed.reason).toBe("player-left");
  await expect.poll(() => sessions(hub)).toEqual([]);
  const metrics = await (await fetch(`${hub.url}/metrics`)).text();
  const ended =
    /^heartline_session_endings_total\{[^}]*reason="player-heartbeat-timeout"[^}]*\} (\d+)$/m.exec(metrics);
  expect(ended?.[1], "heartline_session_endings_total{reason=player-heartbeat-timeout}").toBe("1");

  // (No screenshot of the frozen tab: a paused page never answers one.)
  // The slot is free: a new tab plays, while the first is still frozen.
  const second = await context.newPage();
  await play(second, hub, streamerId);
  const [next] = await sessions(hub);
  expect(next).toMatchObject({ streamerId, state: "live" });
  expect(next?.playerId).not.toBe(playerId);
  await shot(second, "freeze-3-new-tab-playing");

  // Thawed, the first tab learns why its socket went: 4000 with the reason.
  await cdp.send("Debugger.resume");
  await expect.poll(async () => (await pageSockets(page))[0]?.code, { timeout: 10_000 }).toBe(4000);
  expect((await pageSockets(page))[0]?.reason).toBe("player-heartbeat-timeout");
  // Unlike a kick, that close is not final: Epic's frontend comes back 2 s later as a new
  // player, and finds the slot taken by the new tab.
  await expect.poll(async () => (await pageSockets(page)).length, { timeout: 10_000 }).toBe(2);
  await waitForPsEvent(page, "subscribeFailed", 10_000);
  expect(playersConnected(hub)).toHaveLength(4); // first tab, refused tab, new tab, thawed tab
  await shot(page, "freeze-4-thawed-tab-refused");
  test.info().annotations.push({
    type: "figures",
    description: `frozen -> hub closed the session after ${reapedMs} ms (timeout ${timeoutMs} ms, interval ${intervalMs} ms)`,
  });
});

for (const { version, path } of [
  { version: "UE5.5", path: "/ps/" },
  { version: "UE5.7", path: "/ps/ue5.7/" },
]) {
  test(`a streamer away 14 s comes back to the same ${version} page, which plays again without a reload`, async ({
    page,
    procs,
  }) => {
    const hub = await procs.hub(PS); // default pixelStreaming.streamerGraceMs: 30 s
    const streamerId = `ps-return-${version.replace(".", "")}`;
    const agent = await psAgent(procs, hub, streamerId);
    await play(page, hub, streamerId, path);
    const navigations: string[] = [];
    page.on("framenavigated", (frame) => {
      if (frame === page.mainFrame()) navigations.push(frame.url());
    });
    // A mark a reload would wipe.
    await page.evaluate(() => Object.assign(window, { heartlineMark: "before" }));
    const [session] = await sessions(hub);
    const playerId = session?.playerId ?? "";
    expect(playerId).not.toBe("");
    await shot(page, `${version}-return-1-playing`);

    const killedAt = Date.now();
    agent.signal("SIGKILL");
    await agent.exited();
    const held = await hub.waitForLog(
      (l) => l.msg === "streamer gone: holding the player for its return" && l.peerId === playerId,
      5000,
      "the hub holding the player",
    );
    expect(held.streamerId).toBe(streamerId);

    // Away for 14 s: longer than Epic's frontend waits on its own (about 11 s).
    await page.waitForTimeout(6000);
    await shot(page, `${version}-return-2-streamer-away-6s`);
    expect(await framesDecodedOver(page, 1000), "frames while the streamer is gone").toBe(0);
    await page.waitForTimeout(Math.max(0, killedAt + 14_000 - Date.now()));
    await shot(page, `${version}-return-3-streamer-away-14s`);
    // The page's one socket is still open: the hub held it.
    const whileAway = await pageSockets(page);
    expect(whileAway).toHaveLength(1);
    expect(whileAway[0]?.closedAt).toBeUndefined();

    // From here on the page counts presented frames whatever peer connection brings them.
    await countPresentedFrames(page);
    expect((await presentedFrames(page)).frames).toBe(0);
    await psAgent(procs, hub, streamerId);
    const nudged = await hub.waitForLog(
      (l) => l.msg === "streamer is back: nudging the held player to re-subscribe" && l.peerId === playerId,
      5000,
      "the nudge",
    );
    // Playing again: at least 10 frames presented within one second (30 are sent). Not just "a
    // frame": the element presents one as the frontend swaps its peer connection, before any video.
    await expect
      .poll(async () => sustainedFrom(await presentedFrames(page)), { timeout: 20_000 })
      .toBeGreaterThan(0);
    const resumedAt = sustainedFrom(await presentedFrames(page)) ?? Number.NaN;
    const before = await presentedFrames(page);
    await page.waitForTimeout(2000);
    const after = await presentedFrames(page);
    expect(after.frames - before.frames, "frames presented in the next 2 s").toBeGreaterThan(20);
    const frames = await decodedFrames(page);
    expect([frames.width, frames.height]).toEqual([640, 360]);
    await shot(page, `${version}-return-4-playing-again`);

    // The same page, the same socket, the same player id, a new session.
    expect(navigations, "main-frame navigations after the first load").toEqual([]);
    expect(await page.evaluate(() => (window as Window & { heartlineMark?: string }).heartlineMark)).toBe(
      "before",
    );
    const sockets = await pageSockets(page);
    expect(sockets).toHaveLength(1);
    expect(sockets[0]?.closedAt).toBeUndefined();
    expect(playersConnected(hub)).toHaveLength(1);
    const [again] = await sessions(hub);
    expect(again).toMatchObject({ streamerId, playerId, state: "live" });
    expect(again?.id).not.toBe(session?.id);
    const playStreams = (await psEvents(page)).filter((e) => e.name === "playStream");
    expect(playStreams.length, "playStream events (first play and after the return)").toBeGreaterThanOrEqual(
      2,
    );
    // The page's clock as epoch ms, to set its events beside the hub's log lines.
    const timeOrigin = await page.evaluate(() => performance.timeOrigin);
    const sinceNudge = (pageTime: number): number => Math.round(timeOrigin + pageTime - timeOf(nudged));
    test.info().annotations.push({
      type: "figures",
      description:
        `streamer away ${timeOf(nudged) - killedAt} ms (SIGKILL -> the hub's nudge); after the nudge: ` +
        `playStream ${sinceNudge(playStreams.at(-1)?.at ?? Number.NaN)} ms, ` +
        `frames flowing (10 in a second) ${sinceNudge(resumedAt)} ms`,
    });
    test.info().annotations.push({
      type: "events",
      description: (await psEvents(page))
        .filter((e) => timeOrigin + e.at > killedAt)
        .map((e) => `${e.name}@${sinceNudge(e.at)}`)
        .join(" "),
    });
  });

  test(`a kicked ${version} frontend gets 1001 kicked, shows its disconnect overlay and stays out`, async ({
    page,
    procs,
  }) => {
    const hub = await procs.hub(PS);
    const streamerId = `ps-kick-${version.replace(".", "")}`;
    const agent = await psAgent(procs, hub, streamerId);
    await play(page, hub, streamerId, path);
    const [session] = await sessions(hub);
    const sessionId = session?.id ?? "";

    const kickedAt = Date.now();
    const response = await api(hub, `/api/sessions/${encodeURIComponent(sessionId)}`, "DELETE");
    expect(response.status).toBeLessThan(300);
    await expect.poll(async () => (await pageSockets(page))[0]?.code, { timeout: 5000 }).toBe(1001);
    expect((await pageSockets(page))[0]?.reason).toBe("kicked");
    const closed = await hub.waitForLog((l) => l.msg === "session closed" && l.sessionId === sessionId);
    expect(closed.reason).toBe("kicked");
    const agentClosed = await agent.waitForLog(
      (l) => l.msg === "session closed" && l.playerId === session?.playerId,
      5000,
      "the agent's 'session closed'",
    );
    expect(agentClosed.reason).toBe("player-left");

    // Epic's overlay says why and waits for a click.
    const overlay = page.locator("#disconnectOverlay");
    await expect(overlay).toBeVisible();
    await expect(overlay).toContainText("Disconnected: kicked Click To Restart.");
    const disconnected = (await psEvents(page)).find((e) => e.name === "webRtcDisconnected");
    expect(disconnected?.data).toMatchObject({ eventString: "kicked", allowClickToReconnect: true });
    await shot(page, `${version}-kick-1-overlay`);

    // And nothing comes back: Wilbur's 1011 would have a new player here 2 s after the close.
    await page.waitForTimeout(Math.max(0, kickedAt + 5000 - Date.now()));
    expect(await pageSockets(page), "sockets the page opened").toHaveLength(1);
    expect(playersConnected(hub), "'Pixel Streaming player connected' lines").toHaveLength(1);
    expect(await sessions(hub)).toEqual([]);
    expect(agent.logs.filter((l) => l.msg === "player joined")).toHaveLength(1);
    const audit = await hub.waitForLog((l) => l.audit === true && l.action === "end-session");
    expect(audit.sessionId).toBe(sessionId);
    await shot(page, `${version}-kick-2-still-out-5s`);
    const timeOrigin = await page.evaluate(() => performance.timeOrigin);
    const pageClosedAt = timeOrigin + ((await pageSockets(page))[0]?.closedAt ?? Number.NaN);
    test.info().annotations.push({
      type: "figures",
      description:
        `DELETE -> hub closed the session ${timeOf(closed) - kickedAt} ms, ` +
        `-> the page saw 1001 ${Math.round(pageClosedAt - kickedAt)} ms; no new socket for ${Date.now() - kickedAt} ms`,
    });
  });
}

test("the dashboard lists the Pixel Streaming session with its streamer, protocol and RTT", async ({
  context,
  page,
  procs,
}) => {
  const hub = await procs.hub([...PS, "--heartbeat-interval-ms", "300"]);
  const streamerId = "ps-dash";
  await psAgent(procs, hub, streamerId);
  await play(page, hub, streamerId);
  const [session] = await sessions(hub);
  const sessionId = session?.id ?? "";

  const dashboard = await context.newPage();
  await dashboard.setViewportSize({ width: 1280, height: 720 });
  await dashboard.goto(`${hub.url}/dashboard#token=${TOKEN}`);
  await expect(dashboard.locator("#connection")).toHaveText("Live");
  const row = dashboard.locator(`#sessions tbody tr[data-session-id="${sessionId}"]`);
  await expect(row).toBeVisible();
  await expect(row.locator(".streamer")).toHaveText(`${streamerId} · Pixel Streaming`);
  await expect(row.locator(".state .badge")).toHaveText("live");
  await expect(row.locator(".rtt-value")).toHaveText(/^\d+ ms$/);
  await expect(row.locator(".sparkline canvas")).toHaveCount(1);
  await expect(dashboard.locator(`#streamers li[data-streamer-id="${streamerId}"]`)).toContainText(
    "1 player",
  );
  await dashboard.waitForTimeout(3000); // the sparkline fills
  const rtt = await row.locator(".rtt-value").textContent();
  const path = test.info().outputPath("dashboard-ps-session.png");
  await dashboard.screenshot({ path, fullPage: true });
  await test.info().attach("dashboard-ps-session", { path, contentType: "image/png" });
  test.info().annotations.push({ type: "figures", description: `dashboard RTT ${rtt ?? "?"}` });
});
