import { describe, expect, it } from "vitest";
import { chooseStreamer } from "./choose-streamer.js";

const live = (...ids: string[]) => ids.map((streamerId) => ({ streamerId, players: 0 }));

describe("chooseStreamer", () => {
  it("subscribes to the named streamer when it is listed", () => {
    expect(chooseStreamer(live("a", "cam1"), "cam1")).toEqual({ kind: "subscribe", streamerId: "cam1" });
  });

  it("waits for the named streamer when it is not listed, even if others are", () => {
    expect(chooseStreamer(live("a"), "cam1")).toEqual({ kind: "wait", streamerId: "cam1" });
  });

  it("takes the only streamer listed when none is named", () => {
    expect(chooseStreamer(live("cam1"), null)).toEqual({ kind: "subscribe", streamerId: "cam1" });
  });

  it("lets the viewer pick when several are listed and none is named", () => {
    expect(chooseStreamer(live("b", "a"), null)).toEqual({ kind: "pick", streamerIds: ["a", "b"] });
  });

  it("waits for any streamer when none is listed", () => {
    expect(chooseStreamer([], null)).toEqual({ kind: "wait", streamerId: null });
  });

  it("returns to the streamer watched last while it is listed, if none was named", () => {
    expect(chooseStreamer(live("a", "b"), null, "b")).toEqual({ kind: "subscribe", streamerId: "b" });
    expect(chooseStreamer(live("a", "b"), "a", "b")).toEqual({ kind: "subscribe", streamerId: "a" });
    expect(chooseStreamer(live("a", "c"), null, "b")).toEqual({ kind: "pick", streamerIds: ["a", "c"] });
  });
});
