#!/usr/bin/env node
// `tsc --noEmit` over every package's own tsconfig (browser and Node packages differ).
import { spawnSync } from "node:child_process";

const projects = [
  ".",
  "shared",
  "server",
  "streamer-agent",
  "player",
  "web-client",
  "ps-player",
  "e2e",
  "bench",
  "chaos",
];
let failed = false;
for (const project of projects) {
  const result = spawnSync("tsc", ["--noEmit", "-p", project], { stdio: "inherit" });
  if (result.status !== 0) {
    console.error(`typecheck: ${project} has type errors`);
    failed = true;
  }
}
if (failed) process.exit(1);
console.log(`typecheck: ${projects.length} projects clean`);
