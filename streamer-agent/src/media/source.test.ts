import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SourceError, describeSource, parseSource, redactCredentials, splitArgs } from "./source.js";

const dir = mkdtempSync(join(tmpdir(), "heartline-source-"));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("splitArgs", () => {
  it("splits on whitespace and keeps quoted and escaped spaces, expanding nothing", () => {
    expect(splitArgs("  -f v4l2   -i /dev/video0 ")).toEqual(["-f", "v4l2", "-i", "/dev/video0"]);
    expect(splitArgs(`-i "My Movies/a b.mp4"`)).toEqual(["-i", "My Movies/a b.mp4"]);
    expect(splitArgs(`-i 'it''s' -x a\\ b`)).toEqual(["-i", "its", "-x", "a b"]);
    expect(splitArgs(`-i "say \\"hi\\"" -y $HOME ~ * ; rm -rf /`)).toEqual([
      "-i",
      'say "hi"',
      "-y",
      "$HOME",
      "~",
      "*",
      ";",
      "rm",
      "-rf",
      "/",
    ]);
    expect(splitArgs(`-i ""`)).toEqual(["-i", ""]);
  });

  it("refuses an unterminated quote", () => {
    expect(() => splitArgs(`-i "open`)).toThrow(SourceError);
    expect(() => splitArgs(`-i 'open`)).toThrow(/unterminated ' quote/);
  });
});

describe("parseSource", () => {
  it("knows the test pattern, ffmpeg input specs and files (resolved against the working directory)", () => {
    expect(parseSource("testpattern")).toEqual({ kind: "testpattern" });
    expect(parseSource("ffmpeg:-f x11grab -framerate 30 -i :0.0")).toEqual({
      kind: "ffmpeg",
      args: ["-f", "x11grab", "-framerate", "30", "-i", ":0.0"],
    });
    writeFileSync(join(dir, "clip.mp4"), "");
    expect(parseSource("clip.mp4", dir)).toEqual({ kind: "file", path: join(dir, "clip.mp4") });
    expect(describeSource(parseSource("clip.mp4", dir))).toBe(join(dir, "clip.mp4"));
  });

  it("names a missing file by its full path and says what else --source takes", () => {
    expect(() => parseSource("nope.mp4", dir)).toThrow(
      `media file ${join(dir, "nope.mp4")} does not exist; pass an existing file, "testpattern", or "ffmpeg:<ffmpeg input options>"`,
    );
    mkdirSync(join(dir, "folder"));
    expect(() => parseSource("folder", dir)).toThrow(/is not a file/);
  });

  it("requires an ffmpeg spec to name its input with -i", () => {
    expect(() => parseSource("ffmpeg:-f v4l2")).toThrow(/needs "-i <input>"/);
    expect(() => parseSource("ffmpeg:-f v4l2 -i")).toThrow(/needs "-i <input>"/);
  });
});

describe("redactCredentials", () => {
  it("hides a URL's password in what is logged, and leaves everything else alone", () => {
    expect(
      describeSource(parseSource("ffmpeg:-rtsp_transport tcp -i rtsp://admin:s3cret@cam.local:554/live")),
    ).toBe("ffmpeg:-rtsp_transport tcp -i rtsp://admin:***@cam.local:554/live");
    expect(redactCredentials("-i rtsp://cam.local:554/live -f x11grab -i :0.0")).toBe(
      "-i rtsp://cam.local:554/live -f x11grab -i :0.0",
    );
  });
});
