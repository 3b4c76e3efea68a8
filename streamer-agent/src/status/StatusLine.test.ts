import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { AgentStatus } from "../Agent.js";
import { systemClock } from "@heartline/shared/timing";
import { StatusLine, formatStatus } from "./StatusLine.js";

const CLEAR_LINE = "\r\u001b[2K";

const status: AgentStatus = {
  hub: "connected",
  hubUrl: "http://127.0.0.1:8080",
  sessions: [
    { sessionId: "0f3c9a7e-1111-2222", rttMs: 12.4, mediaRttMs: 3 },
    { sessionId: "aa00bb11-3333", rttMs: undefined, mediaRttMs: undefined },
  ],
  fps: 29.97,
  bitrateKbps: 980,
};

describe("formatStatus", () => {
  it("shows the hub link, each viewer's RTTs and the send rate", () => {
    expect(formatStatus(status)).toBe(
      "hub connected | 2 viewers | 0f3c9a7e rtt 12ms media 3ms | aa00bb11 rtt - media - | 30.0 fps 980 kbit/s",
    );
  });

  it("says so when the encoder has sent nothing yet", () => {
    expect(
      formatStatus({ ...status, hub: "resuming", sessions: [], fps: undefined, bitrateKbps: undefined }),
    ).toBe("hub resuming sessions | 0 viewers | encoder idle");
  });

  it("names the hub URL while connecting, and when and why it retries", () => {
    expect(formatStatus({ ...status, hub: "connecting", sessions: [] })).toBe(
      "hub connecting to http://127.0.0.1:8080 | 0 viewers | 30.0 fps 980 kbit/s",
    );
    expect(
      formatStatus({
        ...status,
        hub: "disconnected",
        retry: { inMs: 4_200, code: "unreachable" },
        sessions: [],
      }),
    ).toBe(
      "hub reconnecting to http://127.0.0.1:8080 in 5 s (unreachable) | 0 viewers | 30.0 fps 980 kbit/s",
    );
    expect(
      formatStatus({ ...status, hub: "disconnected", retry: { inMs: 900, code: "disconnected" } }),
    ).toMatch(/^hub reconnecting to http:\/\/127\.0\.0\.1:8080 in 1 s \| 2 viewers/);
  });
});

describe("StatusLine", () => {
  let written: string[];
  let line: StatusLine;
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    written = [];
    line = new StatusLine({
      out: { write: (text: string) => written.push(text) > 0, columns: 40 },
      read: () => status,
      clock: systemClock,
    });
  });
  afterEach(() => {
    line.stop();
    vi.useRealTimers();
  });

  it("redraws every second, truncated to the terminal width", () => {
    line.start();
    vi.advanceTimersByTime(2000);
    expect(written).toHaveLength(3);
    expect(written[0]?.startsWith(`${CLEAR_LINE}hub connected | 2 viewers`)).toBe(true);
    expect(written[0]?.length).toBeLessThanOrEqual(4 + 40);
  });

  it("prints log lines above the status line and redraws it below", () => {
    line.start();
    line.writeAbove("a log line\n");
    expect(written.at(-1)?.startsWith(`${CLEAR_LINE}a log line\nhub connected`)).toBe(true);
    line.stop();
    line.writeAbove("after\n");
    expect(written.at(-1)).toBe("after\n");
  });
});
