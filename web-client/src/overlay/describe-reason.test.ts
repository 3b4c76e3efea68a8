import { SESSION_CLOSE_REASONS } from "@heartline/shared";
import { describe, expect, it } from "vitest";
import { describeCloseReason } from "./describe-reason.js";

describe("describeCloseReason", () => {
  it("names the heartbeat silence in seconds", () => {
    expect(describeCloseReason("streamer-heartbeat-timeout", 3000)).toBe(
      "The streamer stopped responding (no heartbeat for 3 s).",
    );
    expect(describeCloseReason("player-heartbeat-timeout", 4500)).toMatch(
      /^This player stopped answering heartbeats for 4.5 s/,
    );
  });

  it("has plain words for every reason of the protocol", () => {
    for (const reason of SESSION_CLOSE_REASONS) {
      expect(describeCloseReason(reason, null)).toMatch(/^[A-Z].+\.$/);
    }
  });
});
