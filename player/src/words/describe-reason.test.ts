import { SESSION_CLOSE_REASONS } from "@heartline/shared";
import { describe, expect, it } from "vitest";
import { describeCloseReason, describeLate, describeRefusal } from "./describe-reason.js";

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

  it("says the media path failed for media-timeout", () => {
    expect(describeCloseReason("media-timeout", 3000)).toBe(
      "The video connection failed (media path timeout).",
    );
  });
});

describe("describeRefusal", () => {
  it("says why the player may not connect and what to do", () => {
    expect(describeRefusal("unauthorized", "https://play.example")).toBe(
      "This player is not allowed to connect: its link has no valid token (missing, wrong or expired). Ask the operator for a new link.",
    );
    expect(describeRefusal("origin-not-allowed", "https://play.example")).toMatch(
      /not allowed to connect: the hub does not accept players on https:\/\/play\.example\. Ask the operator/,
    );
  });
});

describe("describeCloseReason (operator)", () => {
  it("says an operator ended a kicked session", () => {
    expect(describeCloseReason("kicked", 3000)).toBe("An operator ended this session.");
  });
});

describe("describeLate", () => {
  it("names the end that missed a heartbeat", () => {
    expect(describeLate("streamer")).toBe("The streamer missed a heartbeat.");
    expect(describeLate("player")).toBe("This player missed a heartbeat.");
    expect(describeLate(null)).toBe("A heartbeat was missed.");
    // A dropped connection is said as such, not as a missed beat.
    expect(describeLate("streamer", true)).toBe(
      "The streamer's connection to the hub dropped; waiting for it to come back.",
    );
  });
});
