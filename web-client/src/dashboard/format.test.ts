import { describe, expect, it } from "vitest";
import { formatAge, formatMs, shortId, tokenFromHash } from "./format.js";

describe("dashboard formatting", () => {
  it("formats ages in seconds, minutes and hours", () => {
    expect(formatAge(4_400)).toBe("4s");
    expect(formatAge(125_000)).toBe("2m 05s");
    expect(formatAge(3_720_000)).toBe("1h 02m");
    expect(formatAge(-5)).toBe("0s");
  });

  it("formats RTTs and says — when there is none", () => {
    expect(formatMs(41.6)).toBe("42 ms");
    expect(formatMs(1234)).toBe("1.2 s");
    expect(formatMs(null)).toBe("—");
  });

  it("shortens ids", () => {
    expect(shortId("0123456789abcdef")).toBe("01234567");
    expect(shortId("abc")).toBe("abc");
  });

  it("reads the token from the fragment", () => {
    expect(tokenFromHash("#token=abc%2Bdef")).toBe("abc+def");
    expect(tokenFromHash("#other=1")).toBeUndefined();
    expect(tokenFromHash("")).toBeUndefined();
    expect(tokenFromHash("#token=")).toBeUndefined();
  });
});
