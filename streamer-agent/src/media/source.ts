/**
 * What the encoder reads (`--source`): the built-in test pattern, a media file played in a
 * loop, or any ffmpeg input given as its own arguments (a camera, a screen grab, a stream URL).
 *
 *   testpattern                          ffmpeg's testsrc2 with the id, frame counter and clock burnt in
 *   clips/intro.mp4                      a file, looped forever at its own pace (-stream_loop -1 -re)
 *   ffmpeg:-f v4l2 -i /dev/video0        everything after "ffmpeg:" is passed to ffmpeg as input options
 *
 * The ffmpeg spec is split into arguments here, shell-like but without a shell: whitespace
 * separates, '…' and "…" quote, a backslash escapes the next character; nothing is expanded.
 */
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";

export const TEST_PATTERN = "testpattern";
export const FFMPEG_PREFIX = "ffmpeg:";

export type VideoSource =
  | { kind: "testpattern" }
  /** `path` is absolute. */
  | { kind: "file"; path: string }
  /** ffmpeg input options, ending with (at least) one `-i <input>`. */
  | { kind: "ffmpeg"; args: string[] };

export class SourceError extends Error {
  override readonly name = "SourceError";
}

/** Splits `spec` into arguments like a POSIX shell would, minus every expansion. Throws a SourceError on an open quote. */
export function splitArgs(spec: string): string[] {
  const args: string[] = [];
  let current = "";
  let inArg = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < spec.length; i++) {
    const char = spec.charAt(i);
    if (quote === "'") {
      if (char === "'") quote = undefined;
      else current += char;
    } else if (quote === '"') {
      if (char === '"') quote = undefined;
      else if (char === "\\" && (spec[i + 1] === '"' || spec[i + 1] === "\\")) current += spec.charAt(++i);
      else current += char;
    } else if (char === "'" || char === '"') {
      quote = char;
      inArg = true;
    } else if (char === "\\") {
      if (i + 1 < spec.length) current += spec.charAt(++i);
      inArg = true;
    } else if (/\s/.test(char)) {
      if (inArg) args.push(current);
      current = "";
      inArg = false;
    } else {
      current += char;
      inArg = true;
    }
  }
  if (quote) throw new SourceError(`unterminated ${quote} quote in the ffmpeg input spec`);
  if (inArg) args.push(current);
  return args;
}

/**
 * Reads a `--source` value. A file path is resolved against `cwd` and must name an existing
 * file. Throws a SourceError that says what is wrong and what to write instead.
 */
export function parseSource(value: string, cwd = process.cwd()): VideoSource {
  if (value === TEST_PATTERN) return { kind: "testpattern" };
  if (value.startsWith(FFMPEG_PREFIX)) {
    const args = splitArgs(value.slice(FFMPEG_PREFIX.length));
    const input = args.lastIndexOf("-i");
    if (input === -1 || input === args.length - 1) {
      throw new SourceError(
        `the ffmpeg input spec needs "-i <input>", e.g. "ffmpeg:-f v4l2 -i /dev/video0" or "ffmpeg:-f x11grab -i :0.0"`,
      );
    }
    return { kind: "ffmpeg", args };
  }
  const path = resolve(cwd, value);
  if (!existsSync(path)) {
    throw new SourceError(
      `media file ${path} does not exist; pass an existing file, "${TEST_PATTERN}", or "${FFMPEG_PREFIX}<ffmpeg input options>"`,
    );
  }
  if (!statSync(path).isFile()) throw new SourceError(`${path} is not a file`);
  return { kind: "file", path };
}

/** Hides the password of any URL in `text` (`rtsp://user:secret@cam` -> `rtsp://user:***@cam`): logs must not leak it. */
export function redactCredentials(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/]*):[^\s@/]*@/gi, "$1:***@");
}

/** A short description for logs: what the user typed, minus any password in a URL. */
export function describeSource(source: VideoSource): string {
  switch (source.kind) {
    case "testpattern":
      return TEST_PATTERN;
    case "file":
      return source.path;
    case "ffmpeg":
      return redactCredentials(`${FFMPEG_PREFIX}${source.args.join(" ")}`);
  }
}
