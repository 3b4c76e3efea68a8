/**
 * Loads a configuration object for any strict zod object schema from four sources, later wins:
 * the schema's defaults, a JSON file, environment variables and CLI flags. Every leaf of the
 * schema gets an env var (`PREFIX_` + its path in UPPER_SNAKE) and a flag (`--kebab-path`).
 * Any bad value fails with a ConfigError naming the key, where the value came from, the value,
 * and what is allowed.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";

type Kind = "number" | "boolean" | "string" | "json";

/** One configurable key, derived from the schema. */
export interface ConfigKey {
  /** Dotted path: `heartbeat.intervalMs`. */
  path: string;
  env: string;
  flag: string;
  kind: Kind;
  description: string;
  defaultValue: unknown;
}

export type ConfigSource = "default" | "file" | "env" | "flag";

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
  }
}

export interface LoadConfigOptions {
  /** CLI arguments, without node and the script (default: `process.argv.slice(2)`). */
  argv?: readonly string[];
  env?: Readonly<Record<string, string | undefined>>;
  /** Env var prefix, e.g. `HEARTLINE`. */
  envPrefix: string;
  /** File read when `--config` is not given, if it exists (relative to `cwd`). */
  defaultFile?: string;
  cwd?: string;
  /** Extra boolean flags the caller handles itself (besides `--help`). */
}

export interface LoadedConfig<T> {
  config: T;
  /** Where each key's value came from. */
  sources: Record<string, ConfigSource>;
  /** The config file that was read, if any. */
  file: string | undefined;
  /** `--help` was given: print `help` and exit instead of starting. */
  helpRequested: boolean;
}

type AnySchema = z.ZodType;

function unwrap(schema: AnySchema): AnySchema {
  let current = schema;
  for (;;) {
    const def = current._zod.def as { type: string; innerType?: AnySchema };
    if ((def.type === "default" || def.type === "prefault" || def.type === "optional") && def.innerType) {
      current = def.innerType;
    } else {
      return current;
    }
  }
}

function defaultOf(schema: AnySchema): unknown {
  const def = schema._zod.def as { type: string; defaultValue?: unknown };
  return def.type === "default" ? def.defaultValue : undefined;
}

const kebab = (s: string): string => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const snake = (s: string): string => s.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();

/** Every leaf key of a (nested) object schema. */
export function configKeys(schema: z.ZodObject, envPrefix: string, prefix: string[] = []): ConfigKey[] {
  const keys: ConfigKey[] = [];
  const shape: Record<string, AnySchema> = schema.shape;
  for (const [name, field] of Object.entries(shape)) {
    const inner = unwrap(field);
    const path = [...prefix, name];
    if (inner instanceof z.ZodObject) {
      keys.push(...configKeys(inner, envPrefix, path));
      continue;
    }
    const type = (inner._zod.def as { type: string }).type;
    const kind: Kind =
      type === "number" || type === "int"
        ? "number"
        : type === "boolean"
          ? "boolean"
          : type === "string" || type === "enum"
            ? "string"
            : "json";
    const meta = z.globalRegistry.get(field) ?? z.globalRegistry.get(inner);
    keys.push({
      path: path.join("."),
      env: [envPrefix, ...path.map(snake)].join("_"),
      flag: path.map(kebab).join("-"),
      kind,
      description: meta?.description ?? "",
      defaultValue: defaultOf(field),
    });
  }
  return keys;
}

/** Turns an env or flag string into the key's type; leaves it as is when it cannot, so the schema says why. */
function coerce(kind: Kind, raw: string): unknown {
  switch (kind) {
    case "number":
      return /^\s*-?\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : raw;
    case "boolean":
      return raw === "true" || raw === "1" ? true : raw === "false" || raw === "0" ? false : raw;
    case "json":
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        return raw;
      }
    case "string":
      return raw;
  }
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".");
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== "object" || next === null || Array.isArray(next)) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1] as string] = value;
}

function getPath(source: unknown, path: readonly PropertyKey[]): unknown {
  let node = source;
  for (const part of path) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[part];
  }
  return node;
}

function describeSource(
  key: ConfigKey | undefined,
  source: ConfigSource | undefined,
  file: string | undefined,
): string {
  if (!key || !source) return file ? `in ${file}` : "";
  switch (source) {
    case "default":
      return "(default)";
    case "file":
      return `(from ${file ?? "config file"})`;
    case "env":
      return `(from env ${key.env})`;
    case "flag":
      return `(from --${key.flag})`;
  }
}

/** A Markdown table of every key (for README.md; `pnpm docs:config` writes it there). */
export function configMarkdownTable(schema: z.ZodObject, envPrefix: string): string {
  const cell = (text: string): string => text.replace(/\|/g, "\\|");
  const rows = configKeys(schema, envPrefix).map((key) => {
    const def = key.defaultValue === undefined ? "–" : `\`${JSON.stringify(key.defaultValue)}\``;
    return `| \`${key.path}\` | ${def} | \`${key.env}\` / \`--${key.flag}\` | ${cell(key.description)} |`;
  });
  return ["| key | default | env / flag | meaning |", "|---|---|---|---|", ...rows].join("\n");
}

/** Help text listing every key with its flag, env var and default. */
export function configHelp(schema: z.ZodObject, envPrefix: string): string {
  const lines = configKeys(schema, envPrefix).map((key) => {
    const def = key.defaultValue === undefined ? "" : ` (default: ${JSON.stringify(key.defaultValue)})`;
    return `  --${key.flag} <${key.kind}>\n      ${key.description}${def}\n      env: ${key.env}`;
  });
  return lines.join("\n");
}

export function loadConfig<S extends z.ZodObject>(
  schema: S,
  options: LoadConfigOptions,
): LoadedConfig<z.output<S>> {
  const env = options.env ?? process.env;
  const argv = options.argv ?? process.argv.slice(2);
  const cwd = options.cwd ?? process.cwd();
  const keys = configKeys(schema, options.envPrefix);
  const byPath = new Map(keys.map((k) => [k.path, k]));
  const sources: Record<string, ConfigSource> = {};
  for (const key of keys) sources[key.path] = "default";

  let flags: Record<string, string | boolean | undefined>;
  try {
    const parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        config: { type: "string" },
        help: { type: "boolean", short: "h" },
        ...Object.fromEntries(keys.map((k) => [k.flag, { type: "string" as const }])),
      },
    });
    flags = parsed.values;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new ConfigError([`${message}. Run with --help to list the options.`]);
  }

  const raw: Record<string, unknown> = {};
  const explicitFile = typeof flags.config === "string" ? flags.config : env[`${options.envPrefix}_CONFIG`];
  let file: string | undefined;
  if (explicitFile !== undefined) {
    file = resolve(cwd, explicitFile);
    if (!existsSync(file)) throw new ConfigError([`config file ${file} does not exist (from --config)`]);
  } else if (options.defaultFile && existsSync(resolve(cwd, options.defaultFile))) {
    file = resolve(cwd, options.defaultFile);
  }
  if (file) {
    let fromFile: unknown;
    try {
      fromFile = JSON.parse(readFileSync(file, "utf8")) as unknown;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new ConfigError([`config file ${file} is not valid JSON: ${message}`]);
    }
    if (typeof fromFile !== "object" || fromFile === null || Array.isArray(fromFile)) {
      throw new ConfigError([`config file ${file} must hold a JSON object`]);
    }
    Object.assign(raw, fromFile);
    for (const key of keys) {
      if (getPath(fromFile, key.path.split(".")) !== undefined) sources[key.path] = "file";
    }
  }
  for (const key of keys) {
    const value = env[key.env];
    if (value !== undefined && value !== "") {
      setPath(raw, key.path, coerce(key.kind, value));
      sources[key.path] = "env";
    }
  }
  for (const key of keys) {
    const value = flags[key.flag];
    if (typeof value === "string") {
      setPath(raw, key.path, coerce(key.kind, value));
      sources[key.path] = "flag";
    }
  }

  const result = schema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      // The leaf key an issue is about: its path, or the longest configured prefix of it.
      const segments = issue.path.map(String);
      let key: ConfigKey | undefined;
      for (let n = segments.length; n > 0 && !key; n--) key = byPath.get(segments.slice(0, n).join("."));
      const name = segments.join(".") || "(config)";
      const value = getPath(raw, issue.path);
      const shown = value === undefined ? "" : ` = ${JSON.stringify(value)}`;
      const where = describeSource(key, key ? sources[key.path] : undefined, file);
      return `${name}${shown} ${where}: ${issue.message}`.replace(/\s+:/, ":");
    });
    throw new ConfigError(problems);
  }
  return { config: result.data, sources, file, helpRequested: flags.help === true };
}
