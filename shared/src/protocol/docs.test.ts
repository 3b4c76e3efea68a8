/**
 * docs/protocol.md is what people implementing their own streamer read: every close reason,
 * error code, handshake code and message type the schema knows must be in it, and nothing the
 * schema does not know may be listed as one.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  ERROR_CODES,
  HandshakeError,
  HubToPlayerMessageSchema,
  HubToStreamerMessageSchema,
  PlayerToHubMessageSchema,
  SESSION_CLOSE_REASONS,
  StreamerToHubMessageSchema,
} from "../index.js";

const doc = readFileSync(fileURLToPath(new URL("../../../docs/protocol.md", import.meta.url)), "utf8");

/** The first cell (a `code`) of every row of the table under `heading`. */
function firstColumn(heading: string): string[] {
  const start = doc.indexOf(`## ${heading}\n`);
  if (start < 0) throw new Error(`docs/protocol.md has no '## ${heading}' section`);
  const end = doc.indexOf("\n## ", start + 1);
  const section = doc.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/^\| `([^`]+)`/gm)].map((match) => match[1] ?? "");
}

function messageTypes(schema: { options: readonly { shape: { type: { value: string } } }[] }): string[] {
  return schema.options.map((option) => option.shape.type.value);
}

describe("docs/protocol.md", () => {
  it("lists exactly the close reasons of the schema", () => {
    expect(firstColumn("Close reasons").sort()).toEqual([...SESSION_CLOSE_REASONS].sort());
  });

  it("lists exactly the error codes of the schema", () => {
    expect(firstColumn("Errors").sort()).toEqual([...ERROR_CODES].sort());
  });

  it("names every handshake refusal code and every message type", () => {
    const names = [
      ...Object.values(HandshakeError),
      ...messageTypes(StreamerToHubMessageSchema),
      ...messageTypes(PlayerToHubMessageSchema),
      ...messageTypes(HubToStreamerMessageSchema),
      ...messageTypes(HubToPlayerMessageSchema),
    ];
    const missing = [...new Set(names)].filter((name) => !doc.includes(`\`${name}`));
    expect(missing).toEqual([]);
  });
});
