#!/usr/bin/env node
// Builds the installable packages: shared, server, streamer-agent and player compiled to dist/ (so
// the bins run with plain `node`, no tsx; the player also gets its one-file browser bundle,
// dist/browser/heartline-player.js), with the built player pages copied into the server's
// package (dist/public/…, where an installed hub looks first). Development keeps running the
// TypeScript sources; only the packed manifests point at dist/ (each package's publishConfig).
//
//   node scripts/packages.mjs [--reuse-pages] [--pack <dir>]
//
// --reuse-pages  keep web-client/dist and ps-player/dist if they are built already
// --pack <dir>   then `pnpm pack` the four packages into <dir> and print the tarballs' paths
import { spawn } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const argv = process.argv.slice(2);
const reusePages = argv.includes("--reuse-pages");
const packIndex = argv.indexOf("--pack");
const packDir = packIndex >= 0 ? argv[packIndex + 1] : undefined;
if (packIndex >= 0 && !packDir) {
  console.error("packages: --pack needs a directory");
  process.exit(2);
}

/** The packages that ship, and the bin whose compiled file gets a `node` shebang. */
const PACKAGES = [
  { dir: "shared" },
  { dir: "server", bin: "dist/main.js" },
  { dir: "streamer-agent", bin: "dist/cli.js" },
  { dir: "player" },
];
const PAGES = [
  { pkg: "@heartline/web-client", dir: "web-client", into: "web-client" },
  { pkg: "@heartline/ps-player", dir: "ps-player", into: "ps-player" },
];
const started = Date.now();

/** Runs a command; `quiet` keeps its stdout unless it fails (pnpm pack lists every file). */
function run(argv0, args, cwd = root, quiet = false) {
  return new Promise((done, fail) => {
    const child = spawn(argv0, args, { cwd, stdio: ["ignore", quiet ? "pipe" : "inherit", "inherit"] });
    let output = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk) => (output += chunk));
    child.once("error", fail);
    child.once("exit", (code) => {
      if (code === 0) return done();
      process.stdout.write(output);
      fail(new Error(`'${[argv0, ...args].join(" ")}' in ${cwd} exited with ${code}`));
    });
  });
}
const tsc = (dir) =>
  run(process.execPath, [
    join(root, "node_modules/typescript/bin/tsc"),
    "-p",
    join(root, dir, "tsconfig.build.json"),
  ]);

for (const { dir } of PACKAGES) rmSync(join(root, dir, "dist"), { recursive: true, force: true });
// server and the agent compile against shared's declarations (their tsconfig.build.json paths).
await tsc("shared");
await Promise.all([tsc("server"), tsc("streamer-agent"), tsc("player")]);
// The browser bundle for pages without a bundler (player/vite.config.ts).
await run("pnpm", ["--filter", "@heartline/player", "build"], root, true);
for (const { dir, bin } of PACKAGES) {
  if (!bin) continue;
  // The sources start with `#!/usr/bin/env -S npx tsx`; the compiled bin needs nothing but node.
  const file = join(root, dir, bin);
  const text = readFileSync(file, "utf8").replace(/^#!.*\n/, "");
  writeFileSync(file, `#!/usr/bin/env node\n${text}`);
  chmodSync(file, 0o755);
}

for (const page of PAGES) {
  const built = join(root, page.dir, "dist");
  if (!(reusePages && existsSync(join(built, "index.html")))) {
    await run("pnpm", ["--filter", page.pkg, "build"]);
  }
  cpSync(built, join(root, "server/dist/public", page.into), { recursive: true });
}
console.log(`packages: built ${PACKAGES.map((p) => p.dir).join(", ")} in ${Date.now() - started} ms`);

if (packDir) {
  const out = resolve(packDir);
  mkdirSync(out, { recursive: true });
  // pnpm applies publishConfig (exports, bin) and turns workspace:* into the real versions.
  for (const { dir } of PACKAGES) {
    await run("pnpm", ["pack", "--pack-destination", out], join(root, dir), true);
    const { name, version } = JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8"));
    console.log(join(out, `${name.replace(/^@/, "").replace("/", "-")}-${version}.tgz`));
  }
}
