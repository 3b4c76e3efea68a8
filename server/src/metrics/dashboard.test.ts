/**
 * The Grafana dashboard (deploy/grafana/heartline.json) and the alert rules
 * (deploy/prometheus/heartline.rules.yml) name only metrics a real hub exports: every metric in
 * their PromQL is looked up in the `/metrics` of a single-node hub and of a hub with Redis
 * (a real redis-server) and Pixel Streaming, which export the cluster and PS metrics too.
 */
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisServer } from "@heartline/shared/testing";
import { startHub, type TestHub } from "../testing/harness.js";

const DEPLOY = new URL("../../../deploy/", import.meta.url);

const KEYWORDS = new Set([
  "and",
  "or",
  "unless",
  "bool",
  "offset",
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "inf",
  "nan",
]);

/** The metric names a PromQL expression selects (functions, labels, keywords and variables left out). */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""') // strings
    .replace(/\{[^}]*\}/g, " ") // label matchers
    .replace(/\[[^\]]*\]/g, " ") // ranges and subqueries
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ") // label lists
    .replace(/\boffset\s+\S+/g, " ");
  const names = new Set<string>();
  // Not after a digit, dot or `$` (5m, 1e3, $instance); not followed by `(` (a function).
  for (const match of bare.matchAll(/(?<![\w.$])[A-Za-z_:][\w:]*(?![\w:])(?!\s*\()/g)) {
    const name = match[0];
    if (!KEYWORDS.has(name.toLowerCase())) names.add(name);
  }
  return [...names];
}

/** The families a scrape declares (`# TYPE name type`). */
function families(exposition: string): Map<string, string> {
  const types = new Map<string, string>();
  for (const match of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm))
    types.set(match[1] ?? "", match[2] ?? "");
  return types;
}

/** The family a series name belongs to: itself, or a histogram's `_bucket/_sum/_count`, a summary's `_sum/_count`. */
function familyOf(name: string, types: Map<string, string>): string | undefined {
  if (types.has(name)) return name;
  const match = /^(.+)_(bucket|sum|count)$/.exec(name);
  if (!match) return undefined;
  const [, base = "", suffix] = match;
  const type = types.get(base);
  if (type === "histogram" || (type === "summary" && suffix !== "bucket")) return base;
  return undefined;
}

/** Series Prometheus makes itself for every target. */
const SCRAPE_SERIES = new Set(["up", "scrape_duration_seconds", "scrape_samples_scraped"]);

interface Dashboard {
  panels: { title: string; targets?: { expr: string }[] }[];
  templating: { list: { name: string; definition?: string }[] };
}

async function dashboardExprs(): Promise<{ where: string; expr: string }[]> {
  const dashboard = JSON.parse(
    await readFile(new URL("grafana/heartline.json", DEPLOY), "utf8"),
  ) as Dashboard;
  const exprs = dashboard.panels.flatMap((panel) =>
    (panel.targets ?? []).map((t) => ({ where: `panel "${panel.title}"`, expr: t.expr })),
  );
  for (const variable of dashboard.templating.list) {
    const query = /label_values\((.*),\s*\w+\)/.exec(variable.definition ?? "")?.[1];
    if (query) exprs.push({ where: `variable $${variable.name}`, expr: query });
  }
  return exprs;
}

/** Every rule's `expr`, one line (`expr: ...`) or a folded block (`expr: >-` and indented lines). */
async function ruleExprs(): Promise<{ where: string; expr: string }[]> {
  const text = await readFile(new URL("prometheus/heartline.rules.yml", DEPLOY), "utf8");
  const lines = text.split("\n");
  const exprs: { where: string; expr: string }[] = [];
  let alert = "";
  lines.forEach((line, i) => {
    alert = /^\s*- alert: (\S+)/.exec(line)?.[1] ?? alert;
    const match = /^(\s*)expr: (.*)$/.exec(line);
    if (!match) return;
    const [, indent = "", value = ""] = match;
    if (!/^[>|]/.test(value)) {
      exprs.push({ where: `rule ${alert}`, expr: value });
      return;
    }
    const block: string[] = [];
    for (const next of lines.slice(i + 1)) {
      if (next.trim() !== "" && next.search(/\S/) <= indent.length) break;
      block.push(next.trim());
    }
    exprs.push({ where: `rule ${alert}`, expr: block.join(" ") });
  });
  expect(exprs.length, "one expr per alert").toBe(text.match(/^\s*- alert: /gm)?.length);
  return exprs;
}

describe("metricNames", () => {
  it("finds the selected metrics and skips functions, label lists, matchers, ranges and variables", () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le) (rate(heartline_heartbeat_rtt_seconds_bucket{instance=~"$instance"}[$__rate_interval])))',
      ),
    ).toEqual(["heartline_heartbeat_rtt_seconds_bucket"]);
    expect(
      metricNames(
        'a_total / on (instance) group_left b{x="sum(y)"} offset 5m > bool 1e3 unless max_over_time(c[1h]) == 0',
      ),
    ).toEqual(["a_total", "b", "c"]);
  });
});

describe("the dashboard and the alert rules", () => {
  let redis: RedisServer;
  const hubs: TestHub[] = [];
  let plain = "";
  let full = "";
  beforeAll(async () => {
    redis = await RedisServer.start();
    const single = await startHub();
    const cluster = await startHub({
      cluster: {
        redisUrl: redis.url,
        keyPrefix: "dashboard",
        nodeId: "a",
        secret: "dashboard-test-secret-0123456789abcdef",
      },
      pixelStreaming: { enabled: true },
    });
    hubs.push(single, cluster);
    plain = await (await fetch(`${single.url}/metrics`)).text();
    full = await (await fetch(`${cluster.url}/metrics`)).text();
  });
  afterAll(async () => {
    await Promise.all(hubs.map((h) => h.close()));
    await redis.stop();
  });

  it("scrape real hubs: the single-node one lacks the cluster and PS metrics the other one has", () => {
    expect(families(plain).has("heartline_cluster_redis_up")).toBe(false);
    expect(families(plain).has("heartline_ps_sockets")).toBe(false);
    expect(families(full).has("heartline_cluster_redis_up")).toBe(true);
    expect(families(full).has("heartline_ps_sockets")).toBe(true);
  });

  it("name only metrics the hub exports (histogram suffixes only on histograms)", async () => {
    const types = new Map([...families(plain), ...families(full)]);
    const exprs = [...(await dashboardExprs()), ...(await ruleExprs())];
    const used = exprs.flatMap(({ where, expr }) => metricNames(expr).map((name) => ({ where, name })));
    expect(used.length).toBeGreaterThan(exprs.length - 1);
    const unknown = used.filter(
      ({ name }) => !SCRAPE_SERIES.has(name) && familyOf(name, types) === undefined,
    );
    expect(unknown, "metrics no hub exports").toEqual([]);
  });

  it("cover every heartline_ metric the hub exports on the dashboard", async () => {
    const shown = new Set(
      (await dashboardExprs())
        .flatMap(({ expr }) => metricNames(expr))
        .map((n) => familyOf(n, families(full))),
    );
    const heartline = [...families(full).keys()].filter((name) => name.startsWith("heartline_"));
    expect(heartline.filter((name) => !shown.has(name))).toEqual([]);
  });
});
