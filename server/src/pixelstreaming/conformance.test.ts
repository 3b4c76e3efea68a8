/**
 * Pixel Streaming conformance: a real hub with the PS endpoint on, driven by peers built on
 * Epic's own Common library (testing/PsClient.ts), checked against what Epic's clients need
 * (docs: the PS spec and its traps T1-T15). Every message the hub originates is checked as
 * Epic's SS_Test checks it (registered type, every required field, no unknown field); that
 * check runs for every client of every test, in afterEach.
 *
 * Epic's real SS_Test cannot run in CI (it is not on npm); its six phases are replayed here
 * first, step by step, with its 3 s budget per step and its rule that a message a step did not
 * expect fails the step.
 */
import { Messages } from "@epicgames-ps/lib-pixelstreamingcommon-ue5.5";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { startHub, TestPeer, type TestHub } from "../testing/harness.js";
import { PsClient, psProtocolProblems, type PsClientOptions, type PsMessage } from "./testing/PsClient.js";

/** SS_Test's budget for one step. */
const STEP_MS = 3000;
const ADMIN_TOKEN = "conformance-admin-token";
const STREAMER_KEY = "conformance-streamer-key";
const PLAYER_SECRET = "conformance-player-token-secret-of-32+chars";

type HubOverrides = Parameters<typeof startHub>[0];

interface PsHub {
  test: TestHub;
  wsBase: string;
  streamerUrl: string;
  /** The player endpoint: `/` and every other path that is not heartline's own. */
  playerUrl(path?: string): string;
  /** A client that is connecting (not open yet), closed with the hub. */
  client(url: string, options?: PsClientOptions): PsClient;
  /** A streamer that has been identified and confirmed; `committedId` is the id the hub gave it. */
  streamer(id: string, options?: PsClientOptions): Promise<{ s: PsClient; committedId: string }>;
  /** A player that has received its `config`. */
  player(path?: string, options?: PsClientOptions): Promise<PsClient>;
  /** `player` subscribes to `streamerId`; resolves to the player id the streamer was told. */
  subscribe(p: PsClient, s: PsClient, streamerId: string): Promise<string>;
}

const open: { hubs: TestHub[]; clients: PsClient[] } = { hubs: [], clients: [] };

afterEach(async () => {
  const clients = open.clients.splice(0);
  const hubs = open.hubs.splice(0);
  for (const client of clients) client.terminate();
  for (const hub of hubs) await hub.close();
  // Trap T6: whatever the hub sent any client must pass SS_Test's message check.
  expect(clients.flatMap((client) => client.problems.map((problem) => `${client.url}: ${problem}`))).toEqual(
    [],
  );
});

async function psHub(overrides: HubOverrides = {}): Promise<PsHub> {
  const test = await startHub({
    ...overrides,
    pixelStreaming: { enabled: true, ...overrides.pixelStreaming },
  });
  open.hubs.push(test);
  const wsBase = test.url.replace(/^http/, "ws");
  const client = (url: string, options?: PsClientOptions): PsClient => {
    const c = new PsClient(url, options);
    open.clients.push(c);
    return c;
  };
  const hub: PsHub = {
    test,
    wsBase,
    streamerUrl: `${wsBase}/ps/streamer`,
    playerUrl: (path = "/") => `${wsBase}${path}`,
    client,
    streamer: async (id, options) => {
      const s = client(hub.streamerUrl, options);
      await s.next("identify");
      await s.next("config");
      s.send(Messages.endpointId, { id });
      const confirm = await s.next("endpointIdConfirm");
      return { s, committedId: confirm.committedId as string };
    },
    player: async (path, options) => {
      const p = client(hub.playerUrl(path), options);
      await p.next("config");
      return p;
    },
    subscribe: async (p, s, streamerId) => {
      p.send(Messages.subscribe, { streamerId });
      const connected = await s.next("playerConnected");
      return connected.playerId as string;
    },
  };
  return hub;
}

/** Nothing the client did not ask for has arrived (after a round trip, so in-flight frames land). */
async function expectQuiet(...clients: PsClient[]): Promise<void> {
  for (const client of clients) {
    await client.roundTrip();
    expect(client.received, `${client.url} got unsolicited messages`).toEqual([]);
  }
}

/** The message types a client received, in order, from all its frames. */
const typesOf = (client: PsClient): (string | undefined)[] =>
  client.frames.map((frame) => frame.message?.type);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits at most `ms` for the socket to close; undefined if it is still open then. */
async function closedWithin(
  client: PsClient,
  ms: number,
): Promise<{ code: number; reason: string } | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => {
      resolve(undefined);
    }, ms);
  });
  try {
    return await Promise.race([client.closed, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function admin(hub: PsHub, method: string, path: string): Promise<Response> {
  return fetch(`${hub.test.url}${path}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
}

describe("psProtocolProblems (the SS_Test check itself)", () => {
  it("accepts what Wilbur sends and rejects what SS_Test rejects", () => {
    expect(
      psProtocolProblems({ type: "config", peerConnectionOptions: {}, protocolVersion: "1.3.0" }),
    ).toEqual([]);
    expect(
      psProtocolProblems({ type: "playerConnected", playerId: "P0", dataChannel: true, sfu: false }),
    ).toEqual([]);
    expect(psProtocolProblems({ type: "subscribeFailed", message: "Streamer x does not exist." })).toEqual(
      [],
    );
    expect(psProtocolProblems({ type: "pong", time: Date.now() })).toEqual([]);
    expect(psProtocolProblems({ type: "sessionState", state: "live" })).toEqual([
      "unknown type 'sessionState'",
    ]);
    expect(psProtocolProblems({ type: "playerConnected", playerId: "P0", dataChannel: true })).toEqual([
      "'playerConnected' lacks required field 'sfu'",
    ]);
    expect(psProtocolProblems({ type: "config", peerConnectionOptions: {}, sessionId: "x" })).toEqual([
      "'config' has unknown field 'sessionId'",
    ]);
    expect(psProtocolProblems({ type: "playerDisconnected", playerId: 7 })).toEqual([
      "'playerDisconnected'.playerId is not a string: 7",
    ]);
    expect(psProtocolProblems({ type: "streamerList", ids: ["a", 2] })).toEqual([
      `'streamerList'.ids is not an array of strings: ["a",2]`,
    ]);
  });
});

describe("Epic's SS_Test, phase by phase", () => {
  it("passes its six phases: connection, ping, subscribing, layerPreference, force disconnect, disconnect notify", async () => {
    const hub = await psHub();
    const streamerId = "signalling_tester";
    const candidate = {
      candidate: "candidate1",
      sdpMid: "spd mid",
      sdpMLineIndex: 0,
      usernameFragment: "frag1",
    };

    // 1. initial connection: the streamer is asked to identify and configured; the player configured.
    const s = hub.client(hub.streamerUrl);
    let p = hub.client(hub.playerUrl());
    await Promise.all([s.opened, p.opened]);
    await s.next("identify", undefined, STEP_MS);
    await s.next("config", undefined, STEP_MS);
    s.send(Messages.endpointId, { id: streamerId });
    expect((await s.next("endpointIdConfirm", undefined, STEP_MS)).committedId).toBe(streamerId);
    await p.next("config", undefined, STEP_MS);
    expect(s.received).toEqual([]);
    expect(p.received).toEqual([]);

    // 2. ping response
    s.send(Messages.ping);
    expect(await s.next("pong", undefined, STEP_MS)).toEqual({ type: "pong", time: 0 });
    expect(s.received).toEqual([]);

    // 3. subscribing: list, subscribe, offer, answer (with the player id added), ICE verbatim.
    p.send(Messages.listStreamers);
    expect((await p.next("streamerList", undefined, STEP_MS)).ids).toContain(streamerId);
    p.send(Messages.subscribe, { streamerId });
    let playerId = (await s.next("playerConnected", undefined, STEP_MS)).playerId as string;
    s.send(Messages.offer, { sdp: "mock sdp", playerId });
    expect((await p.next("offer", undefined, STEP_MS)).sdp).toBe("mock sdp");
    p.send(Messages.answer, { sdp: "mock answer" });
    const answer = await s.next("answer", undefined, STEP_MS);
    expect(answer.sdp).toBe("mock answer");
    expect(answer.playerId).toBe(playerId);
    s.send(Messages.iceCandidate, { playerId: answer.playerId, candidate });
    expect((await p.next("iceCandidate", undefined, STEP_MS)).candidate).toEqual(candidate);
    expect(s.received).toEqual([]);
    expect(p.received).toEqual([]);

    // 4. layerPreference (the player's own playerId "" is overwritten).
    p.send(Messages.layerPreference, { temporalLayer: 9, spatialLayer: 6 });
    const layers = await s.next("layerPreference", undefined, STEP_MS);
    expect(layers).toMatchObject({ temporalLayer: 9, spatialLayer: 6, playerId });
    expect(s.received).toEqual([]);
    expect(p.received).toEqual([]);

    // 5. force disconnect: the player's socket closes and the streamer hears of it.
    s.send(Messages.disconnectPlayer, { playerId });
    await p.closed;
    expect(await s.next("playerDisconnected", undefined, STEP_MS)).toEqual({
      type: "playerDisconnected",
      playerId,
    });
    expect(s.received).toEqual([]);
    expect(p.received).toEqual([]);

    // 6. disconnect notify: a new player subscribes, gets an offer, leaves; the streamer hears of it.
    p = hub.client(hub.playerUrl());
    await p.next("config", undefined, STEP_MS);
    p.send(Messages.listStreamers);
    await p.next("streamerList", undefined, STEP_MS);
    p.send(Messages.subscribe, { streamerId });
    playerId = (await s.next("playerConnected", undefined, STEP_MS)).playerId as string;
    s.send(Messages.offer, { sdp: "mock sdp", playerId });
    await p.next("offer", undefined, STEP_MS);
    p.close(1000, "Done");
    expect(await s.next("playerDisconnected", undefined, STEP_MS)).toEqual({
      type: "playerDisconnected",
      playerId,
    });
    expect(s.received).toEqual([]);
    expect(p.received).toEqual([]);
  });
});

describe("connection setup", () => {
  it("sends a player `config` first, on `/` and on any other path, and nothing else unasked", async () => {
    const hub = await psHub();
    for (const path of ["/", "/ps/player.html", "/some/page?StreamerId=x"]) {
      const p = await hub.player(path);
      const [first] = p.frames;
      expect(first?.message).toMatchObject({ type: "config", protocolVersion: "1.3.0" });
      const options = first?.message?.peerConnectionOptions;
      expect(options).toBeTypeOf("object");
      await expectQuiet(p);
      expect(typesOf(p).filter((type) => type === "config")).toHaveLength(1);
    }
  });

  it("asks a streamer to `identify`, then configures it, and lists it only once it has identified", async () => {
    const hub = await psHub();
    const s = hub.client(hub.streamerUrl);
    await s.next("identify");
    await s.next("config");
    expect(typesOf(s)).toEqual(["identify", "config"]);
    const p = await hub.player();
    p.send(Messages.listStreamers);
    expect(await p.next("streamerList")).toEqual({ type: "streamerList", ids: [] });
    s.send(Messages.endpointId, { id: "ue5", protocolVersion: "1.0.0" });
    expect(await s.next("endpointIdConfirm")).toEqual({ type: "endpointIdConfirm", committedId: "ue5" });
    p.send(Messages.listStreamers);
    expect(await p.next("streamerList")).toEqual({ type: "streamerList", ids: ["ue5"] });
    await expectQuiet(s, p);
  });

  it("T1/T2: a player that sends `listStreamers` in the same tick as open gets `config` first, then its list", async () => {
    const hub = await psHub();
    await hub.streamer("ue5");
    const p = hub.client(hub.playerUrl()).onOpen((c) => {
      c.send(Messages.listStreamers);
    });
    await p.next("streamerList");
    expect(typesOf(p)).toEqual(["config", "streamerList"]);
    expect(p.frames[1]?.message).toEqual({ type: "streamerList", ids: ["ue5"] });
  });

  it("T2: a streamer's `endpointId` sent in the same tick as open (before `identify`) is not lost", async () => {
    const hub = await psHub();
    const s = hub.client(hub.streamerUrl).onOpen((c) => {
      c.send(Messages.endpointId, { id: "eager" });
    });
    expect((await s.next("endpointIdConfirm")).committedId).toBe("eager");
    expect(typesOf(s)).toEqual(["identify", "config", "endpointIdConfirm"]);
    const p = await hub.player();
    p.send(Messages.listStreamers);
    expect((await p.next("streamerList")).ids).toEqual(["eager"]);
  });

  it("T1/T2/T10 under slow auth: a player's token checked for 1.5 s still gets `config` first, then its queued list", async () => {
    const hub = await psHub({
      auth: { open: false, playerTokenSecret: PLAYER_SECRET, streamerKeys: [{ key: STREAMER_KEY }] },
    });
    const access = hub.test.hub.access;
    const token = await access.issuePlayerToken({});
    // Slow every token check, wherever the endpoint asks: longer than engine.io's 1 s upgrade kill.
    let slowed = 0;
    const check = access.check.bind(access);
    const verifyPlayerToken = access.verifyPlayerToken.bind(access);
    access.check = async (auth) => {
      slowed++;
      await sleep(1500);
      return check(auth);
    };
    access.verifyPlayerToken = async (t) => {
      slowed++;
      await sleep(1500);
      return verifyPlayerToken(t);
    };
    const s = hub.client(`${hub.streamerUrl}?key=${STREAMER_KEY}`);
    await s.next("config", undefined, 5000);
    s.send(Messages.endpointId, { id: "ue5" });
    await s.next("endpointIdConfirm");
    const p = hub.client(hub.playerUrl(`/?token=${token}`)).onOpen((c) => {
      c.send(Messages.listStreamers);
    });
    expect((await p.next("streamerList", undefined, 6000)).ids).toEqual(["ue5"]);
    expect(typesOf(p)).toEqual(["config", "streamerList"]);
    expect(p.isOpen).toBe(true);
    expect(slowed).toBeGreaterThan(0);
  });

  it("refuses a player without a valid token (no `config`, no socket)", async () => {
    const hub = await psHub({ auth: { open: false, playerTokenSecret: PLAYER_SECRET } });
    for (const path of ["/", "/?token=not-a-jwt"]) {
      const p = hub.client(hub.playerUrl(path), { validate: false });
      expect(await closedWithin(p, STEP_MS)).toBeDefined();
      expect(p.frames.filter((frame) => frame.message?.type === "config")).toEqual([]);
    }
  });

  it("T10: silent players and streamers are not cut off by engine.io's 1 s upgrade timeout", async () => {
    const hub = await psHub();
    const p = await hub.player();
    const s = hub.client(hub.streamerUrl);
    await s.next("config");
    await sleep(1500);
    expect(p.isOpen).toBe(true);
    expect(s.isOpen).toBe(true);
    s.send(Messages.endpointId, { id: "late" });
    expect((await s.next("endpointIdConfirm")).committedId).toBe("late");
    await expectQuiet(p);
  });
});

describe("listing and subscribing", () => {
  it("`subscribe` to an unknown streamer: `subscribeFailed` with Wilbur's text", async () => {
    const hub = await psHub();
    const p = await hub.player();
    p.send(Messages.subscribe, { streamerId: "nope" });
    expect(await p.next("subscribeFailed")).toEqual({
      type: "subscribeFailed",
      message: "Streamer nope does not exist.",
    });
    expect(p.isOpen).toBe(true);
  });

  it("`subscribe` to a full streamer: `subscribeFailed` with Wilbur's text", async () => {
    const hub = await psHub({ maxPlayers: 1 });
    const { s } = await hub.streamer("ue5");
    await hub.subscribe(await hub.player(), s, "ue5");
    const second = await hub.player();
    second.send(Messages.subscribe, { streamerId: "ue5" });
    expect(await second.next("subscribeFailed")).toEqual({
      type: "subscribeFailed",
      message: "Streamer ue5 is full. Max players = 1.",
    });
    await expectQuiet(s);
  });

  it("tells the streamer `playerConnected` with a string player id, a data channel and no SFU", async () => {
    const hub = await psHub();
    const { s } = await hub.streamer("ue5");
    const p = await hub.player();
    p.send(Messages.subscribe, { streamerId: "ue5" });
    const connected = await s.next("playerConnected");
    expect(connected).toEqual({
      type: "playerConnected",
      playerId: connected.playerId,
      dataChannel: true,
      sfu: false,
    });
    expect(connected.playerId).toBeTypeOf("string");
    expect(connected.playerId).not.toBe("");
  });

  it("a re-`subscribe` to another streamer: `playerDisconnected` to the old one, the same player id to the new", async () => {
    const hub = await psHub();
    const a = (await hub.streamer("a")).s;
    const b = (await hub.streamer("b")).s;
    const p = await hub.player();
    const playerId = await hub.subscribe(p, a, "a");
    p.send(Messages.subscribe, { streamerId: "b" });
    expect(await a.next("playerDisconnected")).toEqual({ type: "playerDisconnected", playerId });
    expect((await b.next("playerConnected")).playerId).toBe(playerId);
    await expectQuiet(a, b, p);
  });

  it("a re-`subscribe` to the same streamer (the frontend's rebuild): `playerDisconnected`, then `playerConnected`", async () => {
    const hub = await psHub();
    const { s } = await hub.streamer("ue5");
    const p = await hub.player();
    const playerId = await hub.subscribe(p, s, "ue5");
    p.send(Messages.subscribe, { streamerId: "ue5" });
    expect(await s.next("playerDisconnected")).toEqual({ type: "playerDisconnected", playerId });
    expect((await s.next("playerConnected")).playerId).toBe(playerId);
    const sequence = typesOf(s).filter((type) => type === "playerConnected" || type === "playerDisconnected");
    expect(sequence).toEqual(["playerConnected", "playerDisconnected", "playerConnected"]);
    s.send(Messages.offer, { sdp: "second offer", playerId });
    expect((await p.next("offer")).sdp).toBe("second offer");
  });

  it("`unsubscribe` and a player's close each tell the streamer `playerDisconnected` at once", async () => {
    const hub = await psHub();
    const { s } = await hub.streamer("ue5");
    const p1 = await hub.player();
    const id1 = await hub.subscribe(p1, s, "ue5");
    p1.send(Messages.unsubscribe);
    expect(await s.next("playerDisconnected")).toEqual({ type: "playerDisconnected", playerId: id1 });
    const p2 = await hub.player();
    const id2 = await hub.subscribe(p2, s, "ue5");
    p2.terminate();
    expect(await s.next("playerDisconnected")).toEqual({ type: "playerDisconnected", playerId: id2 });
    expect(id2).not.toBe(id1);
  });

  it("a streamer that leaves is no longer listed", async () => {
    const hub = await psHub();
    const { s } = await hub.streamer("gone");
    await hub.streamer("stays");
    const p = await hub.player();
    p.send(Messages.listStreamers);
    expect(((await p.next("streamerList")).ids as string[]).sort()).toEqual(["gone", "stays"]);
    s.close();
    await s.closed;
    await sleep(100);
    p.send(Messages.listStreamers);
    expect((await p.next("streamerList")).ids).toEqual(["stays"]);
  });
});

describe("relaying (T7, T9)", () => {
  async function session(hub: PsHub): Promise<{ s: PsClient; p: PsClient; playerId: string }> {
    const { s } = await hub.streamer("ue5");
    const p = await hub.player();
    const playerId = await hub.subscribe(p, s, "ue5");
    return { s, p, playerId };
  }

  it("T7: a streamer's `offer` and `iceCandidate` reach the player verbatim (SFU and UE fields kept)", async () => {
    const hub = await psHub();
    const { s, p, playerId } = await session(hub);
    const offer = {
      type: "offer",
      sdp: "v=0\r\n",
      playerId,
      sfu: false,
      multiplex: true,
      scalabilityMode: "L1T3",
    };
    s.sendRaw(offer);
    expect(await p.next("offer")).toEqual(offer);
    const ice = {
      type: "iceCandidate",
      playerId,
      candidate: {
        candidate: "candidate:1 1 udp 2122260223 127.0.0.1 47871 typ host",
        sdpMid: "0",
        sdpMLineIndex: 0,
        usernameFragment: "HhtG",
      },
    };
    s.sendRaw(ice);
    expect(await p.next("iceCandidate")).toEqual(ice);
    await expectQuiet(s, p);
  });

  it("T7: a player's `answer`, `iceCandidate` and data channel messages reach the streamer verbatim, with the hub's `playerId`", async () => {
    const hub = await psHub();
    const { s, p, playerId } = await session(hub);
    const answer = {
      type: "answer",
      sdp: "v=0\r\nanswer",
      minBitrateBps: 100_000,
      maxBitrateBps: 20_000_000,
    };
    p.sendRaw({ ...answer, playerId: "someone-else" });
    expect(await s.next("answer")).toEqual({ ...answer, playerId });
    const candidate = {
      candidate: "candidate:2 1 udp 1 127.0.0.1 5000 typ host",
      sdpMid: "1",
      sdpMLineIndex: 1,
      usernameFragment: "u",
    };
    p.sendRaw({ type: "iceCandidate", candidate });
    expect(await s.next("iceCandidate")).toEqual({ type: "iceCandidate", candidate, playerId });
    await expectQuiet(s, p);
  });

  it("a player's `dataChannelRequest` and `peerDataChannelsReady` reach its streamer (an SFU) with the hub's `playerId`", async () => {
    const hub = await psHub();
    // The SFU routes these by `playerId`, a field Epic's proto does not give them: no SS_Test check.
    const s = hub.client(hub.streamerUrl, { validate: false });
    await s.next("config");
    s.send(Messages.endpointId, { id: "SFU" });
    await s.next("endpointIdConfirm");
    const p = await hub.player();
    const playerId = await hub.subscribe(p, s, "SFU");
    p.send(Messages.dataChannelRequest);
    expect(await s.next("dataChannelRequest")).toEqual({ type: "dataChannelRequest", playerId });
    p.send(Messages.peerDataChannelsReady);
    expect(await s.next("peerDataChannelsReady")).toEqual({ type: "peerDataChannelsReady", playerId });
  });

  it("T7: fields outside Epic's proto survive a relay both ways too (no stripping schema)", async () => {
    const hub = await psHub();
    const { s: strictS } = await hub.streamer("strict");
    strictS.terminate();
    const s = hub.client(hub.streamerUrl, { validate: false });
    await s.next("config");
    s.send(Messages.endpointId, { id: "ue5" });
    await s.next("endpointIdConfirm");
    const p = hub.client(hub.playerUrl(), { validate: false });
    await p.next("config");
    const playerId = await hub.subscribe(p, s, "ue5");
    const offer = {
      type: "offer",
      sdp: "v=0",
      playerId,
      custom: { nested: [1, "two", null] },
      minBitrate: 1,
    };
    s.sendRaw(offer);
    expect(await p.next("offer")).toEqual(offer);
    const answer = { type: "answer", sdp: "v=0", vendorExtension: true };
    p.sendRaw(answer);
    expect(await s.next("answer")).toEqual({ ...answer, playerId });
  });

  it("T9: `layerPreference` after every offer is relayed each time and never counted as a violation", async () => {
    const hub = await psHub({ limits: { maxViolations: 2 } });
    const { s, p, playerId } = await session(hub);
    for (let i = 0; i < 8; i++) {
      p.sendRaw({ type: "layerPreference", spatialLayer: i, temporalLayer: 0 });
      expect(await s.next("layerPreference")).toEqual({
        type: "layerPreference",
        spatialLayer: i,
        temporalLayer: 0,
        playerId,
      });
    }
    p.send(Messages.layerPreference, { spatialLayer: 6, temporalLayer: 9, playerId: "" });
    expect(await s.next("layerPreference")).toEqual({
      type: "layerPreference",
      spatialLayer: 6,
      temporalLayer: 9,
      playerId,
    });
    expect(p.isOpen).toBe(true);
    await expectQuiet(p, s);
  });

  it("#920: a streamer cannot reach or kick another streamer's player", async () => {
    const hub = await psHub();
    const { s: a } = await hub.streamer("a");
    const { s: b } = await hub.streamer("b");
    const p = await hub.player();
    const playerId = await hub.subscribe(p, a, "a");
    b.send(Messages.offer, { sdp: "not yours", playerId });
    b.send(Messages.iceCandidate, { playerId, candidate: { candidate: "x", sdpMid: "0", sdpMLineIndex: 0 } });
    b.send(Messages.disconnectPlayer, { playerId, reason: "not yours" });
    await b.roundTrip();
    await sleep(200);
    expect(p.isOpen).toBe(true);
    await expectQuiet(p, a, b);
    a.send(Messages.offer, { sdp: "yours", playerId });
    expect((await p.next("offer")).sdp).toBe("yours");
  });

  it("a streamer's message for a player that does not exist goes nowhere and closes nothing", async () => {
    const hub = await psHub();
    const { s, p } = await session(hub);
    s.send(Messages.offer, { sdp: "v=0", playerId: "Player999" });
    s.send(Messages.disconnectPlayer, { playerId: "Player999" });
    await expectQuiet(s, p);
    expect(s.isOpen && p.isOpen).toBe(true);
  });
});

describe("ping and pong (T8)", () => {
  it("answers every role's `ping` with `pong` carrying the same number, past int32 and in epoch seconds", async () => {
    const hub = await psHub();
    const { s } = await hub.streamer("ue5");
    const p = await hub.player();
    const times = [0, 2 ** 31 + 5, Date.now(), Math.floor(Date.now() / 1000), Number.MAX_SAFE_INTEGER, 1.5];
    for (const client of [s, p]) {
      for (const time of times) {
        client.sendRaw({ type: "ping", time });
        expect(await client.next("pong")).toEqual({ type: "pong", time });
      }
      client.sendRaw({ type: "ping" });
      expect(await client.next("pong")).toEqual({ type: "pong", time: 0 });
    }
  });

  it("never relays a `ping` or a `pong`, and accepts a player's `pong` silently", async () => {
    const hub = await psHub();
    const { s } = await hub.streamer("ue5");
    const p = await hub.player();
    await hub.subscribe(p, s, "ue5");
    s.sendRaw({ type: "ping", time: 1_733_000_000 });
    p.sendRaw({ type: "ping", time: Date.now() });
    p.sendRaw({ type: "pong", time: 12 });
    s.sendRaw({ type: "pong", time: 13 });
    await s.next("pong");
    await p.next("pong");
    await sleep(100);
    await expectQuiet(s, p);
  });
});

describe("nothing unsolicited (T3, T4, T6)", () => {
  it("T3: a subscribed player gets no `streamerList` when another streamer joins or leaves", async () => {
    const hub = await psHub();
    const { s } = await hub.streamer("ue5");
    const p = await hub.player();
    await hub.subscribe(p, s, "ue5");
    const { s: other } = await hub.streamer("other");
    await sleep(200);
    await expectQuiet(p);
    other.close();
    await other.closed;
    await sleep(200);
    await expectQuiet(p, s);
  });

  it("T4: a live config change sends no second `config` to PS peers (heartline's own peers get theirs)", async () => {
    const hub = await psHub();
    const { s } = await hub.streamer("ue5");
    const p = await hub.player();
    await hub.subscribe(p, s, "ue5");
    const native = await TestPeer.connect(hub.test.url, { role: "player" });
    try {
      const next = { ...hub.test.config, iceServers: [{ urls: ["stun:127.0.0.1:3478"] }] };
      hub.test.hub.reconfigure(next);
      await native.next("config");
      await sleep(200);
      await expectQuiet(p, s);
      expect(typesOf(p).filter((type) => type === "config")).toHaveLength(1);
      expect(typesOf(s).filter((type) => type === "config")).toHaveLength(1);
    } finally {
      native.close();
    }
  });

  it("T6: a player hears nothing unasked for SS_Test's window after `config` (no early JSON ping)", async () => {
    const hub = await psHub();
    const p = await hub.player();
    await sleep(2200);
    expect(p.received).toEqual([]);
    expect(typesOf(p)).toEqual(["config"]);
  });

  it("the hub's JSON `ping` to a player, when it comes, is a proto `ping` and a `pong` answers it", async () => {
    const hub = await psHub({ heartbeat: { intervalMs: 200, missedBeats: 5 } });
    const p = await hub.player(undefined, { answerPings: true });
    await sleep(1500);
    expect(p.isOpen).toBe(true);
    const pings = p.frames.filter((frame) => frame.message?.type === "ping");
    for (const ping of pings) expect(ping.message?.time).toBeTypeOf("number");
  });
});

describe("close codes (T5)", () => {
  it("`disconnectPlayer` closes that player with 1001 `kicked` (it stays out; Wilbur's 1011 makes it reconnect at once); the streamer gets `playerDisconnected`", async () => {
    const hub = await psHub();
    const { s } = await hub.streamer("ue5");
    const p = await hub.player();
    const playerId = await hub.subscribe(p, s, "ue5");
    s.send(Messages.disconnectPlayer, { playerId, reason: "bad ICE" });
    expect(await p.closed).toEqual({ code: 1001, reason: "kicked" });
    expect(hub.test.logs).toContainEqual(
      expect.objectContaining({ msg: "streamer disconnected a player", reason: "bad ICE" }),
    );
    expect(await s.next("playerDisconnected")).toEqual({ type: "playerDisconnected", playerId });
    expect(s.isOpen).toBe(true);
  });

  it("`disconnectPlayer` with a reason longer than a close frame holds still closes the player, as kicked", async () => {
    const hub = await psHub();
    const { s } = await hub.streamer("ue5");
    const p = await hub.player();
    const playerId = await hub.subscribe(p, s, "ue5");
    s.send(Messages.disconnectPlayer, { playerId, reason: "é".repeat(200) });
    const closed = await closedWithin(p, STEP_MS);
    expect(closed?.code).toBe(1001);
    expect(Buffer.byteLength(closed?.reason ?? "")).toBeLessThanOrEqual(123);
    expect(await s.next("playerDisconnected")).toEqual({ type: "playerDisconnected", playerId });
  });

  it("an operator's kick (admin API) closes the player with 1001 `kicked`, so the frontend does not reconnect", async () => {
    const hub = await psHub({ admin: { token: ADMIN_TOKEN } });
    const { s } = await hub.streamer("ue5");
    const p = await hub.player();
    const playerId = await hub.subscribe(p, s, "ue5");
    const listed = (await (await admin(hub, "GET", "/api/sessions")).json()) as {
      sessions: { id: string; streamerId: string }[];
    };
    const session = listed.sessions.find((candidate) => candidate.streamerId === "ue5");
    expect(session).toBeDefined();
    expect((await admin(hub, "DELETE", `/api/sessions/${session?.id ?? ""}`)).status).toBe(204);
    expect(await p.closed).toEqual({ code: 1001, reason: "kicked" });
    expect(await s.next("playerDisconnected")).toEqual({ type: "playerDisconnected", playerId });
    expect(s.isOpen).toBe(true);
  });

  it("an operator's disconnect of a streamer closes its players with 1001 `kicked` and unlists it", async () => {
    const hub = await psHub({ admin: { token: ADMIN_TOKEN } });
    const { s } = await hub.streamer("ue5");
    const p = await hub.player();
    await hub.subscribe(p, s, "ue5");
    expect((await admin(hub, "DELETE", "/api/streamers/ue5")).status).toBe(204);
    expect(await p.closed).toEqual({ code: 1001, reason: "kicked" });
    await s.closed;
    const lister = await hub.player();
    lister.send(Messages.listStreamers);
    expect((await lister.next("streamerList")).ids).toEqual([]);
  });

  it("a streamer that goes away: its players are closed with a code the frontend reconnects on (not 1001)", async () => {
    const hub = await psHub({ pixelStreaming: { streamerGraceMs: 500 } });
    const { s } = await hub.streamer("ue5");
    const p = await hub.player();
    await hub.subscribe(p, s, "ue5");
    s.terminate();
    const closed = await closedWithin(p, 15_000);
    expect(closed).toBeDefined();
    expect(closed?.code).not.toBe(1001);
    expect(closed?.code).not.toBe(1006);
    expect(closed?.reason).toBe("streamer-left");
    expect(p.received).toEqual([]);
  }, 20_000);

  it("hub shutdown closes PS players and streamers with 1012 (they reconnect to a live node)", async () => {
    const hub = await psHub();
    const { s } = await hub.streamer("ue5");
    const p = await hub.player();
    await hub.subscribe(p, s, "ue5");
    open.hubs.splice(open.hubs.indexOf(hub.test), 1);
    await hub.test.close();
    expect((await closedWithin(p, STEP_MS))?.code).toBe(1012);
    expect((await closedWithin(s, STEP_MS))?.code).toBe(1012);
  });
});

describe("streamer ids (T12)", () => {
  it("a second streamer claiming a live holder's id gets a suffixed id; both are listed", async () => {
    const hub = await psHub();
    const first = await hub.streamer("DefaultStreamer");
    const second = await hub.streamer("DefaultStreamer");
    expect(first.committedId).toBe("DefaultStreamer");
    expect(second.committedId).not.toBe("DefaultStreamer");
    expect(second.committedId.startsWith("DefaultStreamer")).toBe(true);
    const p = await hub.player();
    p.send(Messages.listStreamers);
    expect(((await p.next("streamerList")).ids as string[]).sort()).toEqual(
      ["DefaultStreamer", second.committedId].sort(),
    );
    expect(first.s.isOpen).toBe(true);
  });

  it("a streamer reconnecting after its old socket closed keeps its id", async () => {
    const hub = await psHub();
    const first = await hub.streamer("DefaultStreamer");
    first.s.terminate();
    await first.s.closed;
    const again = await hub.streamer("DefaultStreamer");
    expect(again.committedId).toBe("DefaultStreamer");
  });

  it("a streamer reconnecting while its old socket is silent (no pongs) keeps its id; the old socket is closed", async () => {
    // Stale after 1.5 beats (300 ms); torn down only after 10 beats (2 s): the newcomer comes in between.
    const hub = await psHub({ heartbeat: { intervalMs: 200, missedBeats: 10 } });
    const first = await hub.streamer("DefaultStreamer", { autoPong: false });
    // The control: a holder that answers the hub's pings is live, and keeps its id.
    const live = await hub.streamer("Live");
    const p = await hub.player(undefined, { answerPings: true });
    await sleep(700);
    expect(first.s.isOpen).toBe(true);
    const again = await hub.streamer("DefaultStreamer");
    expect(again.committedId).toBe("DefaultStreamer");
    expect(await closedWithin(first.s, STEP_MS)).toBeDefined();
    expect((await hub.streamer("Live")).committedId).not.toBe("Live");
    expect(live.s.isOpen).toBe(true);
    p.send(Messages.subscribe, { streamerId: "DefaultStreamer" });
    await again.s.next("playerConnected");
  });
});

describe("robustness", () => {
  it("ignores unknown message types silently, however many (new Epic versions add types)", async () => {
    const hub = await psHub({ limits: { maxViolations: 2 } });
    const { s } = await hub.streamer("ue5");
    const p = await hub.player();
    for (let i = 0; i < 6; i++) {
      p.sendRaw({ type: `futureMessage${i}`, data: i });
      s.sendRaw({ type: "stats", data: "x" });
    }
    await expectQuiet(p, s);
    expect(p.isOpen && s.isOpen).toBe(true);
  });

  it("drops invalid input without an answer, and closes with 1008 after `limits.maxViolations`", async () => {
    const hub = await psHub({ limits: { maxViolations: 3 } });
    const p = await hub.player();
    const invalid: unknown[] = [
      "not json",
      "[1,2]",
      "{}",
      JSON.stringify({ type: 7 }),
      JSON.stringify({ type: "subscribe", streamerId: 42 }),
    ];
    p.sendRaw(invalid[0]);
    p.sendRaw(invalid[1]);
    await p.roundTrip();
    expect(p.received).toEqual([]);
    expect(p.isOpen).toBe(true);
    for (let i = 2; i < invalid.length && p.isOpen; i++) p.sendRaw(invalid[i]);
    for (let i = 0; i < 10 && p.isOpen; i++) p.sendRaw("{broken");
    const closed = await closedWithin(p, STEP_MS);
    expect(closed?.code).toBe(1008);
    expect(p.received).toEqual([]);
  });

  it("refuses a frame larger than `limits.maxMessageBytes` by closing the socket (1009)", async () => {
    const hub = await psHub({ limits: { maxMessageBytes: 4096 } });
    const { s } = await hub.streamer("ue5");
    const p = await hub.player();
    await hub.subscribe(p, s, "ue5");
    p.sendRaw({ type: "answer", sdp: "x".repeat(10_000) });
    expect((await closedWithin(p, STEP_MS))?.code).toBe(1009);
    expect(await s.next("playerDisconnected")).toMatchObject({ type: "playerDisconnected" });
    const answers = typesOf(s).filter((type) => type === "answer");
    expect(answers).toEqual([]);
  });

  it("a frame the WebSocket layer rejects (oversize, invalid UTF-8) closes that socket only: nothing thrown, the hub serves on", async () => {
    // ws reports these as an 'error' event on the hub's socket: without a listener, that is an
    // uncaught exception, i.e. a crashed hub in production, from one client's bad frame.
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown): void => {
      uncaught.push(error);
    };
    process.on("uncaughtException", onUncaught);
    try {
      const hub = await psHub({ limits: { maxMessageBytes: 4096 } });
      const { s } = await hub.streamer("ue5");
      const big = await hub.player();
      big.sendRaw("x".repeat(10_000));
      expect((await closedWithin(big, STEP_MS))?.code).toBe(1009);
      const badText = await hub.player();
      badText.sendRaw(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
      expect((await closedWithin(badText, STEP_MS))?.code).toBe(1007);
      await sleep(50);
      const p = await hub.player();
      await hub.subscribe(p, s, "ue5");
      expect(uncaught).toEqual([]);
    } finally {
      process.off("uncaughtException", onUncaught);
    }
  });

  it("does not speak heartline's own protocol to a PS peer, and heartline's socket.io path still works", async () => {
    const hub = await psHub();
    const native = await TestPeer.connect(hub.test.url, { role: "player" });
    native.close();
    const raw = new WebSocket(`${hub.wsBase}/`);
    const first = await new Promise<string>((resolve, reject) => {
      raw.once("message", (data: Buffer) => {
        resolve(data.toString("utf8"));
      });
      raw.once("error", reject);
    });
    raw.terminate();
    expect((JSON.parse(first) as PsMessage).type).toBe("config");
  });
});
