/**
 * `pnpm docs:config`: writes the hub's config table into README.md between the config-table
 * markers, generated from the schema (shared/src/config/readme.test.ts fails when they differ).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { configMarkdownTable, HubConfigSchema } from "@heartline/shared/config";

const README = fileURLToPath(new URL("../README.md", import.meta.url));
const START = "<!-- config-table:start -->";
const END = "<!-- config-table:end -->";

const text = readFileSync(README, "utf8");
const a = text.indexOf(START);
const b = text.indexOf(END);
if (a < 0 || b < a) throw new Error(`README.md lacks the ${START} ... ${END} markers`);
const table = configMarkdownTable(HubConfigSchema, "HEARTLINE");
writeFileSync(README, `${text.slice(0, a + START.length)}\n\n${table}\n\n${text.slice(b)}`);
process.stdout.write("README.md config table updated; run prettier --write README.md\n");
