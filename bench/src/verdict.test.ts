import { describe, expect, it } from "vitest";
import { connectCause } from "./connectCause.js";
import { parseCounterTables } from "./limits.js";
import { buildReport, formatReport } from "./report.js";
import type { ScenarioResult, WindowResult } from "./scenario.js";
import { distribution, spread } from "./stats.js";
import { judgeScenario, verdict, type BrokenScenario } from "./verdict.js";

// The verdict is a pure function of recorded figures: these are figures a run could record.
function window(over: Partial<WindowResult> = {}): WindowResult {
  return {
    seconds: 30,
    offeredPerSecond: 1000,
    sentPerSecond: 1000,
    relaysPerSecond: 1000,
    rtt: distribution([1, 2, 3]),
    echo: distribution([0.5]),
    lost: 0,
    hubCpuPercent: 10,
    hubCpuMicrosPerRelay: 100,
    loadCpuPercent: 20,
    iceRtt: distribution([]),
    relayedPerSecond: 2000,
    hubCpuMicrosPerRelayedMessage: 50,
    ...over,
  };
}

function scenario(over: Partial<ScenarioResult> = {}): ScenarioResult {
  return {
    hub: "heartline",
    protocol: "native",
    repeat: 0,
    sessions: 1000,
    intervalMs: 1000,
    subscribed: 1000,
    failed: 0,
    connectFailures: {},
    connectAllMs: 3000,
    rampSeconds: 3,
    subscribeToOffer: distribution([1, 2]),
    subscribeRetries: 0,
    streamerListsWhileConnecting: 0,
    steady: window(),
    falseTeardowns: {},
    disconnects: 0,
    heapPerSessionBytes: 15_000,
    rssPerSessionBytes: 20_000,
    hubHeapBytes: 1e7,
    hubRssBytes: 1e8,
    box: {
      limits: { ephemeralPorts: null, somaxconn: null, tcpMaxSynBacklog: null, syncookies: null },
      handshakeTimeoutMs: 20_000,
      connectTimeoutMs: 30_000,
      fds: {},
      tcpWhileConnecting: null,
      socketsBefore: null,
      socketsAfterConnect: null,
      hubCpuPercentConnecting: 10,
      loadCpuPercentConnectingByWorker: [20],
      runQueueWaitPercentConnecting: { "hub heartline": 1 },
    },
    hubLog: ["last line of the hub"],
    ...over,
  };
}

describe("the verdict", () => {
  it("passes a scenario that relayed its offer and held its sessions", () => {
    expect(judgeScenario(scenario())).toEqual([]);
    expect(judgeScenario(scenario({ steady: window({ relaysPerSecond: 990 }) }))).toEqual([]);
  });

  it("fails a window that relayed less than 99 % of the offered rate, naming hub, step and log", () => {
    // The run in issue 12: the bare hub relayed 432 of 1,000 offered relays/s.
    const [f, ...rest] = judgeScenario(scenario({ hub: "bare", steady: window({ relaysPerSecond: 432 }) }));
    expect(rest).toEqual([]);
    expect(f?.hub).toBe("bare");
    expect(f?.step).toBe("window");
    expect(f?.what).toContain("relayed 432/s of 1000/s offered (43.2 %");
    expect(f?.lastLog).toEqual(["last line of the hub"]);
    expect(judgeScenario(scenario({ steady: window({ relaysPerSecond: 989 }) }))).toHaveLength(1);
  });

  it("fails a window with no round trips at all (NaN figures are a shortfall, not a pass)", () => {
    const empty = window({ relaysPerSecond: Number.NaN, rtt: distribution([]) });
    expect(judgeScenario(scenario({ steady: empty })).map((f) => f.step)).toEqual(["window"]);
  });

  it("fails a knee step that relayed nothing, but not one past the knee (p99 over 50 ms)", () => {
    const dead = {
      offeredRate: 2000,
      ...window({ offeredPerSecond: 2000, relaysPerSecond: 0, rtt: distribution([]) }),
    };
    const saturated = {
      offeredRate: 7000,
      ...window({ offeredPerSecond: 7000, relaysPerSecond: 5000, rtt: distribution([300, 400]) }),
    };
    expect(judgeScenario(scenario({ knee: [dead] })).map((f) => f.step)).toEqual(["knee 2000/s"]);
    expect(judgeScenario(scenario({ knee: [saturated] }))).toEqual([]);
  });

  it("fails lost sessions: failed connects with their causes, dropped sockets, false teardowns, lapses never closed", () => {
    const lost = judgeScenario(
      scenario({
        subscribed: 998,
        failed: 2,
        connectFailures: { "websocket error: ECONNRESET": 2 },
        disconnects: 3,
        falseTeardowns: { "player-heartbeat-timeout": 1 },
        lapse: { sessions: 10, lateness: distribution([1]), reasons: {}, notClosed: 9 },
      }),
    );
    expect(lost.map((f) => f.step)).toEqual(["connecting", "window", "window", "lapse"]);
    expect(lost[0]?.what).toBe("held 998 of 1000 sessions; failed connects: 2 × websocket error: ECONNRESET");
  });

  it("fails a scenario that did not finish, with its step", () => {
    const broken: BrokenScenario = {
      hub: "bare",
      repeat: 1,
      sessions: 1000,
      intervalMs: 1000,
      step: "the measurement window",
      error: "bare hub exited mid-run (SIGKILL)",
      lastLog: ["(bare hub process exited: SIGKILL)"],
    };
    const v = verdict([scenario()], [broken]);
    expect(v.ok).toBe(false);
    expect(v.failures).toEqual([
      expect.objectContaining({ hub: "bare", repeat: 1, step: "the measurement window" }),
    ]);
  });
});

describe("the report", () => {
  it("takes no ratio against a failed baseline and prints no NaN", () => {
    const bare = scenario({ hub: "bare", steady: window({ relaysPerSecond: 432 }) });
    const report = buildReport(new Date(), [], [bare, scenario()]);
    expect(report.verdict.ok).toBe(false);
    expect(report.comparisons).toEqual([]);
    expect(report.notCompared[0]).toContain("bare #1 (1000 @1000 ms) failed");
    const text = formatReport(report);
    expect(text).toContain("BENCH FAILED");
    expect(text).not.toMatch(/NaN/);
    expect(JSON.stringify(report)).not.toMatch(/NaN/);
  });

  it("reports median and range of every figure and of the ratios over interleaved repeats", () => {
    const runs = [1, 2, 3].flatMap((k, repeat) => [
      scenario({ hub: "bare", repeat, steady: window({ hubCpuMicrosPerRelay: 100 }) }),
      scenario({ hub: "heartline", repeat, steady: window({ hubCpuMicrosPerRelay: 100 + 10 * k }) }),
    ]);
    const report = buildReport(new Date(), [], runs);
    const heartline = report.spreads.find((s) => s.hub === "heartline");
    expect(heartline?.figures["CPU µs/relay"]).toMatchObject({ median: 120, min: 110, max: 130, n: 3 });
    const ratios = report.ratioSpreads.find((r) => r.of === "heartline");
    expect(ratios?.ratios["CPU µs/relay"]).toMatchObject({ median: 1.2, min: 1.1, max: 1.3 });
    expect(report.goals.find((g) => g.goal.startsWith("hub CPU per relay, 1,000"))).toMatchObject({
      measured: "1.2 (1.1–1.3) over 3 repeat(s)",
      met: false,
    });
    expect(formatReport(report)).toContain("120 (110–130)");
  });

  it("leaves failed repeats out of the medians and counts them", () => {
    const runs = [
      scenario({ hub: "heartline", repeat: 0, steady: window({ hubCpuMicrosPerRelay: 100 }) }),
      scenario({
        hub: "heartline",
        repeat: 1,
        steady: window({ hubCpuMicrosPerRelay: 999, relaysPerSecond: 10 }),
      }),
    ];
    const s = buildReport(new Date(), [], runs).spreads[0];
    expect(s?.failedRepeats).toBe(1);
    expect(s?.figures["CPU µs/relay"]).toMatchObject({ median: 100, n: 1 });
    expect(spread([]).n).toBe(0);
  });
});

describe("connect failure causes", () => {
  it("names the socket error under a transport error, a timeout, and a refusal's data", () => {
    const transport = Object.assign(new Error("websocket error"), {
      description: { error: Object.assign(new Error("connect EADDRNOTAVAIL"), { code: "EADDRNOTAVAIL" }) },
    });
    expect(connectCause(transport)).toBe("websocket error: EADDRNOTAVAIL");
    expect(connectCause(new Error("timeout"))).toBe("timeout");
    expect(connectCause(Object.assign(new Error("refused"), { data: { code: "too-many" } }))).toBe(
      'refused: {"code":"too-many"}',
    );
  });
});

describe("the box's TCP counters", () => {
  it("reads /proc/net/netstat's header-and-values line pairs", () => {
    const text =
      "TcpExt: SyncookiesSent ListenOverflows ListenDrops\nTcpExt: 0 12 13\nIpExt: InNoRoutes\nIpExt: 4\n";
    expect(parseCounterTables(text)).toEqual({
      "TcpExt:SyncookiesSent": 0,
      "TcpExt:ListenOverflows": 12,
      "TcpExt:ListenDrops": 13,
      "IpExt:InNoRoutes": 4,
    });
  });
});
