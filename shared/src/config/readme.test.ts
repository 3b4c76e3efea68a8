import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { configMarkdownTable, HubConfigSchema } from "./index.js";

/** Rows with their cells trimmed (prettier pads tables; content is what matters). */
const rows = (table: string): string[] =>
  table
    .split("\n")
    .filter((line) => line.startsWith("|") && !/^\|[\s|:-]+\|$/.test(line))
    .map((line) =>
      line
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim())
        .join("|"),
    );

describe("README.md", () => {
  it("documents every config key exactly as the schema declares it (pnpm docs:config regenerates it)", () => {
    const readme = readFileSync(fileURLToPath(new URL("../../../README.md", import.meta.url)), "utf8");
    const block = readme.slice(
      readme.indexOf("<!-- config-table:start -->"),
      readme.indexOf("<!-- config-table:end -->"),
    );
    expect(rows(block)).toEqual(rows(configMarkdownTable(HubConfigSchema, "HEARTLINE")));
  });
});
