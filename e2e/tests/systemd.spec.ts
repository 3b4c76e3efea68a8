/**
 * deploy/systemd's units: Debian's `systemd-analyze verify` accepts them without a warning, and
 * they say what the hub and agent need (reload by SIGHUP, stop by SIGTERM, restart on failure,
 * a dedicated user, hardening, secrets from an environment file).
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, test } from "@playwright/test";

const DIR = fileURLToPath(new URL("../../deploy/systemd/", import.meta.url));
const UNITS = ["heartline-hub.service", "heartline-agent.service"] as const;

/** The unit's `[Section] Key=value` settings (a key set twice keeps every value, in order). */
function parseUnit(text: string): Map<string, string[]> {
  const settings = new Map<string, string[]>();
  let section = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header?.[1] !== undefined) {
      section = header[1];
      continue;
    }
    const eq = line.indexOf("=");
    if (eq < 0) throw new Error(`not a Key=value line: ${line}`);
    const key = `${section}.${line.slice(0, eq)}`;
    settings.set(key, [...(settings.get(key) ?? []), line.slice(eq + 1)]);
  }
  return settings;
}

function unit(name: (typeof UNITS)[number]): Map<string, string[]> {
  return parseUnit(readFileSync(DIR + name, "utf8"));
}

test("systemd-analyze verify accepts both units without a warning", () => {
  const probe = spawnSync("systemd-analyze", ["--version"]);
  // Skipped only where systemd-analyze is missing; the Debian image CI runs on ships systemd, so
  // CI always runs this (none skipped in its run).
  test.skip(probe.error !== undefined, "systemd-analyze is not installed (apt-get install -y systemd)");
  const result = spawnSync("systemd-analyze", ["verify", ...UNITS.map((u) => DIR + u)], {
    encoding: "utf8",
  });
  // verify exits 0 on unknown keys and bad values too; it only warns, so the output must be empty.
  expect(result.stderr + result.stdout).toBe("");
  expect(result.status).toBe(0);
});

for (const name of UNITS) {
  test(`${name}: stops by SIGTERM, restarts on failure, runs hardened as its own user`, () => {
    const s = unit(name);
    expect(s.get("Service.KillSignal")).toEqual(["SIGTERM"]);
    expect(s.get("Service.Restart")).toEqual(["on-failure"]);
    expect(s.get("Service.User")).toEqual(["heartline"]);
    expect(Number.parseInt(s.get("Service.TimeoutStopSec")?.[0] ?? "0", 10)).toBeGreaterThanOrEqual(10);
    for (const key of ["NoNewPrivileges", "ProtectHome", "PrivateTmp", "RestrictSUIDSGID"]) {
      expect(s.get(`Service.${key}`), key).toEqual(["yes"]);
    }
    expect(s.get("Service.ProtectSystem")).toEqual(["strict"]);
    expect(s.get("Service.CapabilityBoundingSet")).toEqual([""]);
    expect(s.get("Service.EnvironmentFile")?.length).toBe(1);
    expect(s.get("Install.WantedBy")).toEqual(["multi-user.target"]);
  });
}

test("the hub's unit reloads its config by SIGHUP; the agent, which has nothing to reload, has no reload", () => {
  expect(unit("heartline-hub.service").get("Service.ExecReload")).toEqual(["/bin/kill -HUP $MAINPID"]);
  expect(unit("heartline-agent.service").get("Service.ExecReload")).toBeUndefined();
});
