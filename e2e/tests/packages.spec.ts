/**
 * The installable packages as a user meets them: shared, server, streamer-agent and player built and
 * packed (`scripts/packages.mjs --pack`), installed with npm into an empty folder outside the
 * repo, and their bins run with plain `node` (no tsx on PATH): the installed hub serves the
 * player it ships, the installed agent streams to it, and chromium decodes the video.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "@playwright/test";
import { freePort } from "@heartline/shared/testing";
import { openPlayer, presentsFrames, videoStats, waitForState } from "./support/player.js";
import { Managed } from "./support/processes.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BUILD_TIMEOUT_MS = 180_000;
const NPM_TIMEOUT_MS = 240_000;

/** Runs a command to completion (bounded), failing the test with its output if it fails. */
function run(what: string, command: string, args: string[], cwd: string, timeoutMs: number): string {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", timeout: timeoutMs });
  if (result.error !== undefined || result.status !== 0) {
    throw new Error(
      `${what} failed (${result.error?.message ?? `exit ${String(result.status)}`}):\n` +
        `${result.stdout.slice(-3000)}\n${result.stderr.slice(-3000)}`,
    );
  }
  return result.stdout;
}

/** Node and the system binaries (ffmpeg), nothing from the repo's or pnpm's node_modules/.bin. */
const PLAIN_ENV = {
  PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
  HOME: tmpdir(),
  FORCE_COLOR: "0",
};

test("the packed hub and agent install with npm and stream to chromium with plain node", async ({ page }) => {
  test.setTimeout(BUILD_TIMEOUT_MS + NPM_TIMEOUT_MS + 60_000);
  const work = mkdtempSync(join(tmpdir(), "heartline-packages-"));
  const running: Managed[] = [];
  try {
    const tarballDir = join(work, "tarballs");
    // The e2e run has built the pages already (test:e2e); a lone run builds them if missing.
    run(
      "build and pack",
      process.execPath,
      ["scripts/packages.mjs", "--reuse-pages", "--pack", tarballDir],
      ROOT,
      BUILD_TIMEOUT_MS,
    );
    const tarballs = readdirSync(tarballDir).filter((name) => name.endsWith(".tgz"));
    expect(tarballs.sort()).toEqual([
      "heartline-player-0.1.0.tgz",
      "heartline-server-0.1.0.tgz",
      "heartline-shared-0.1.0.tgz",
      "heartline-streamer-agent-0.1.0.tgz",
    ]);

    const app = join(work, "app");
    run("mkdir", "mkdir", [app], work, 5000);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "packed-heartline", private: true }));
    run(
      "npm install",
      "npm",
      [
        "install",
        "--no-audit",
        "--no-fund",
        "--loglevel",
        "error",
        ...tarballs.map((t) => join(tarballDir, t)),
      ],
      app,
      NPM_TIMEOUT_MS,
    );

    const bin = (name: string) => join(app, "node_modules", ".bin", name);
    for (const name of ["heartline-hub", "heartline-agent"]) {
      expect(readFileSync(bin(name), "utf8").split("\n")[0], name).toBe("#!/usr/bin/env node");
    }
    // workspace:* became the real version, and the packed manifests point at dist/.
    const installed = (pkg: string) =>
      JSON.parse(readFileSync(join(app, "node_modules", "@heartline", pkg, "package.json"), "utf8")) as {
        bin?: Record<string, string>;
        dependencies?: Record<string, string>;
      };
    expect(installed("server").bin).toEqual({ "heartline-hub": "./dist/main.js" });
    expect(installed("server").dependencies?.["@heartline/shared"]).toBe("0.1.0");
    expect(installed("streamer-agent").bin).toEqual({ "heartline-agent": "./dist/cli.js" });
    // The player library: compiled ES modules with types for bundlers, and the one-file bundle.
    const player = installed("player") as ReturnType<typeof installed> & {
      exports?: Record<string, unknown>;
    };
    expect(player.exports).toEqual({
      ".": { types: "./dist/index.d.ts", default: "./dist/index.js" },
      "./browser": "./dist/browser/heartline-player.js",
    });
    expect(player.dependencies?.["@heartline/shared"]).toBe("0.1.0");
    for (const file of ["dist/index.js", "dist/index.d.ts", "dist/browser/heartline-player.js"]) {
      expect(
        readFileSync(join(app, "node_modules/@heartline/player", file), "utf8").length,
        file,
      ).toBeGreaterThan(0);
    }

    const port = await freePort();
    const hubUrl = `http://127.0.0.1:${port}`;
    const start = (name: string, args: string[]) => {
      const child = spawn(bin(name), args, { cwd: app, env: PLAIN_ENV, stdio: ["ignore", "pipe", "pipe"] });
      const managed = new Managed(name, child);
      running.push(managed);
      return managed;
    };
    const hub = start("heartline-hub", [
      "--auth-open",
      "true",
      "--port",
      String(port),
      "--pixel-streaming-enabled",
      "true",
    ]);
    await hub.waitForLog((l) => l.url === hubUrl && l.playerUrl !== undefined, 20_000, "'listening'");
    // The pages the hub package ships: the player at / and Epic's frontend at /ps/.
    expect((await fetch(`${hubUrl}/ps/`)).status).toBe(200);

    const agent = start("heartline-agent", ["--hub", hubUrl, "--id", "packed", "--loopback-only", "true"]);
    await agent.waitForLog((l) => l.msg === "registered", 20_000, "'registered'");

    await openPlayer(page, hubUrl, "packed");
    await waitForState(page, "live");
    await expect
      .poll(async () => (await videoStats(page)).framesDecoded, { timeout: 20_000 })
      .toBeGreaterThan(10);
    expect((await videoStats(page)).frameWidth).toBe(640);
    expect(await presentsFrames(page)).toBe(true);
  } finally {
    for (const managed of running.reverse()) await managed.stop();
    rmSync(work, { recursive: true, force: true });
  }
});
