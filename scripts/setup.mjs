#!/usr/bin/env node
// Makes a fresh clone runnable: checks Node, installs the Debian packages a command needs
// (ffmpeg and fonts for the agent, chromium for the browser tests), pnpm at the pinned version,
// and the workspace's packages. Idempotent and quick when everything is already there.
//
// One line per step, with what is installed and why, and how long it took; the package
// managers' own output goes to .heartline/setup.log, whose end is shown when a step fails.
//
//   node scripts/setup.mjs [--media] [--browser] [--quiet]
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = new Set(process.argv.slice(2));
const quiet = args.has("--quiet");
const say = (line) => {
  if (!quiet) console.log(`setup: ${line}`);
};
const die = (line) => {
  console.error(`setup: ${line}`);
  process.exit(1);
};
const logFile = join(root, ".heartline", "setup.log");

// Node
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  die(`Node ${process.versions.node} is too old; heartline needs Node >= 20.19 (https://nodejs.org).`);
}

// Debian packages: what each one provides, checked by a file it installs.
const wanted = [];
if (args.has("--media")) {
  wanted.push({ pkg: "ffmpeg", present: () => onPath("ffmpeg"), why: "encodes the agent's video" });
  wanted.push({
    pkg: "fonts-dejavu-core",
    present: () => existsSync("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    why: "draws the test pattern's counter and clock",
  });
}
if (args.has("--browser")) {
  wanted.push({
    pkg: "chromium",
    present: () => existsSync("/usr/bin/chromium"),
    why: "runs the end-to-end tests",
  });
  wanted.push({
    pkg: "openssl",
    present: () => onPath("openssl"),
    why: "makes the self-signed certificate of the TLS test",
  });
  wanted.push({
    pkg: "redis-server",
    present: () => onPath("redis-server"),
    why: "the multi-node tests run hubs that share a real Redis",
  });
  wanted.push({
    pkg: "nginx",
    present: () => onSbin("nginx"),
    why: "the reverse-proxy test runs deploy/nginx/heartline.conf in a real nginx",
  });
  wanted.push({
    pkg: "prometheus",
    present: () => onPath("promtool") && onPath("prometheus"),
    why: "checks deploy/prometheus/ with promtool and runs a real Prometheus against a hub",
  });
  wanted.push({
    pkg: "faketime",
    present: () => onPath("faketime"),
    why: "skews the agent's clock in the clock-skew test",
  });
  // The network fault tests (namespaces, a blackholed or lossy link) need root; they are
  // skipped without it, so nothing is installed for them then.
  if (typeof process.getuid === "function" && process.getuid() === 0) {
    wanted.push({
      pkg: "iproute2",
      present: () => onSbin("ip") && onSbin("tc"),
      why: "network namespaces and qdiscs for the partition test",
    });
    wanted.push({
      pkg: "nftables",
      present: () => onSbin("nft"),
      why: "packet loss for the lossy-link test",
    });
  }
}
const missing = wanted.filter((w) => !w.present());
if (missing.length > 0) {
  const pkgs = missing.map((m) => m.pkg);
  for (const m of missing) say(`missing ${m.pkg} (${m.why})`);
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (!onPath("apt-get")) die(`install ${pkgs.join(", ")} with your package manager and run this again.`);
  const prefix = isRoot ? [] : onPath("sudo") ? ["sudo"] : null;
  if (prefix === null) die(`run as root: apt-get update && apt-get install -y ${pkgs.join(" ")}`);
  await run("reading Debian's package lists (apt-get update)", [...prefix, "apt-get", "update", "-qq"], {
    DEBIAN_FRONTEND: "noninteractive",
  });
  await run(
    `installing ${pkgs.join(", ")} with apt-get (a minute or two)`,
    [...prefix, "apt-get", "install", "-y", "-qq", "--no-install-recommends", ...pkgs],
    { DEBIAN_FRONTEND: "noninteractive" },
  );
  const still = missing.filter((m) => !m.present());
  if (still.length > 0) die(`apt-get finished but ${still.map((m) => m.pkg).join(", ")} is still missing.`);
}

// pnpm at the version pinned in package.json (corepack cannot verify it on these machines).
const pinned = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).packageManager.split("@")[1];
const pnpmVersion = capture("pnpm", ["--version"]);
if (pnpmVersion !== pinned) {
  await run(
    `installing pnpm ${pinned}${pnpmVersion ? ` (found ${pnpmVersion})` : ""}, the workspace's package manager`,
    ["npm", "install", "--global", "--no-fund", "--no-audit", `pnpm@${pinned}`],
  );
  if (capture("pnpm", ["--version"]) !== pinned) {
    die(`pnpm ${pinned} is not on PATH after installing it; run: npm install -g pnpm@${pinned}`);
  }
}

// Workspace packages, when missing or older than the lockfile.
const marker = join(root, "node_modules", ".modules.yaml");
const lock = join(root, "pnpm-lock.yaml");
if (!existsSync(marker) || statSync(marker).mtimeMs < statSync(lock).mtimeMs) {
  await run("installing the workspace's npm packages (pnpm install --frozen-lockfile)", [
    "pnpm",
    "install",
    "--frozen-lockfile",
  ]);
}
say("ready");

function onPath(command) {
  return spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;
}
/** Admin tools live in sbin, which is not on every user's PATH. */
function onSbin(command) {
  return onPath(command) || ["/usr/sbin", "/sbin"].some((dir) => existsSync(join(dir, command)));
}
function capture(command, commandArgs) {
  try {
    return execFileSync(command, commandArgs, {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return undefined;
  }
}
/**
 * One step: says what and why, sends the command's output to the log, says every 15 s that it is
 * still going, and how long it took; on failure shows the log's end and what to do next.
 */
async function run(what, argv, env = {}) {
  mkdirSync(dirname(logFile), { recursive: true });
  if (!existsSync(logFile)) writeFileSync(logFile, "");
  appendFileSync(logFile, `\n$ ${argv.join(" ")}\n`);
  say(`${what}…`);
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  const ticker = setInterval(() => {
    say(`  …still ${what.split(" (")[0]} (${elapsed()})`);
  }, 15_000);
  const code = await new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...env },
    });
    child.stdout.on("data", (chunk) => appendFileSync(logFile, chunk));
    child.stderr.on("data", (chunk) => appendFileSync(logFile, chunk));
    child.once("error", (error) => {
      appendFileSync(logFile, `${error.message}\n`);
      resolve(127);
    });
    child.once("close", (status, signal) => resolve(status ?? signal));
  });
  clearInterval(ticker);
  if (code === 0) {
    say(`  done in ${elapsed()}`);
    return;
  }
  const tail = readFileSync(logFile, "utf8").trimEnd().split("\n").slice(-25).join("\n");
  console.error(tail);
  die(
    `'${argv.join(" ")}' failed (exit ${code}) after ${elapsed()}. Its output is above and in full in ${logFile}. ` +
      "Check the network and disk space, fix what it names, and run the same command again (setup is idempotent).",
  );
}
