import { describe, expect, it } from "vitest";
import { answerMediaPing } from "./media-heartbeat.js";

describe("answerMediaPing", () => {
  it("answers a ping at once with its time unchanged", () => {
    const sent: string[] = [];
    const ping = answerMediaPing(JSON.stringify({ type: "ping", time: 12.5, rttMs: 3 }), (t) => sent.push(t));
    expect(ping).toEqual({ type: "ping", time: 12.5, rttMs: 3 });
    expect(sent.map((t) => JSON.parse(t) as unknown)).toEqual([{ type: "pong", time: 12.5 }]);
  });

  it("ignores anything that is not a valid ping", () => {
    const sent: string[] = [];
    for (const data of [
      "not json",
      "{}",
      JSON.stringify({ type: "ping", time: -1 }),
      JSON.stringify({ type: "pong", time: 1 }),
      42,
      new ArrayBuffer(4),
    ]) {
      expect(answerMediaPing(data, (t) => sent.push(t))).toBeNull();
    }
    expect(sent).toEqual([]);
  });

  it("survives a channel that closed under it", () => {
    const ping = answerMediaPing(JSON.stringify({ type: "ping", time: 1 }), () => {
      throw new DOMException("closed", "InvalidStateError");
    });
    expect(ping).toEqual({ type: "ping", time: 1 });
  });
});
