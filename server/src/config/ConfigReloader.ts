/**
 * Live config: re-reads the configuration when its file changes (watched) or on SIGHUP, and
 * hands a valid new config to `apply`. An invalid edit is rejected with a log line naming the
 * problem and the running config stays. Keys that cannot change while running (port, host,
 * the player's folder) are reported as needing a restart.
 */
import { watch, type FSWatcher } from "node:fs";
import { basename, dirname } from "node:path";
import type { Logger } from "pino";
import { ConfigError, configKeys, HubConfigSchema, type HubConfig } from "@heartline/shared/config";

/** Keys whose new value takes effect without a restart. */
const LIVE_KEYS =
  /^(heartbeat\.|iceServers$|log\.level$|auth\.|allowedOrigins$|turn\.|limits\.(?!maxMessageBytes)|maxPlayers$|cluster\.requestTimeoutMs$)/;

export interface ConfigReloaderOptions {
  /** Loads the config from all its sources (throws ConfigError when invalid). */
  load: () => HubConfig;
  /** The running config. */
  current: HubConfig;
  /** The file to watch, if the config came from one. */
  file: string | undefined;
  apply: (config: HubConfig, changed: string[]) => void;
  logger: Logger;
  /** Editors write in bursts; wait this long after the last change. */
  debounceMs?: number;
}

function valueAt(config: HubConfig, path: string): string {
  let node: unknown = config;
  for (const part of path.split(".")) node = (node as Record<string, unknown> | undefined)?.[part];
  return JSON.stringify(node);
}

export class ConfigReloader {
  readonly #options: ConfigReloaderOptions;
  #current: HubConfig;
  #watcher: FSWatcher | undefined;
  #debounce: ReturnType<typeof setTimeout> | undefined;
  readonly #onSighup = (): void => {
    this.reload("SIGHUP");
  };

  constructor(options: ConfigReloaderOptions) {
    this.#options = options;
    this.#current = options.current;
  }

  get current(): HubConfig {
    return this.#current;
  }

  start(): void {
    process.on("SIGHUP", this.#onSighup);
    const { file } = this.#options;
    if (file === undefined) return;
    // Watch the folder, not the file: editors often replace the file, which ends a file watch.
    const name = basename(file);
    this.#watcher = watch(dirname(file), (_event, changed) => {
      if (changed !== null && changed !== name) return;
      if (this.#debounce !== undefined) clearTimeout(this.#debounce);
      this.#debounce = setTimeout(() => {
        this.#debounce = undefined;
        this.reload("file changed");
      }, this.#options.debounceMs ?? 100);
    });
    this.#watcher.unref();
  }

  stop(): void {
    process.off("SIGHUP", this.#onSighup);
    this.#watcher?.close();
    if (this.#debounce !== undefined) clearTimeout(this.#debounce);
  }

  /** Loads and applies the config now; returns whether anything was applied. */
  reload(trigger: string): boolean {
    const log = this.#options.logger;
    let next: HubConfig;
    try {
      next = this.#options.load();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      log.error({ trigger, problems: error.problems }, "config change rejected; the running config stays");
      return false;
    }
    const changed = configKeys(HubConfigSchema, "HEARTLINE")
      .map((key) => key.path)
      .filter((path) => valueAt(next, path) !== valueAt(this.#current, path));
    if (changed.length === 0) {
      log.debug({ trigger }, "config unchanged");
      return false;
    }
    const needRestart = changed.filter((path) => !LIVE_KEYS.test(path));
    if (needRestart.length > 0) {
      log.warn({ trigger, keys: needRestart }, "these config changes take effect only after a restart");
    }
    const live = changed.filter((path) => LIVE_KEYS.test(path));
    if (live.length === 0) return false;
    this.#current = next;
    this.#options.apply(next, live);
    log.info({ trigger, keys: live, heartbeat: next.heartbeat }, "config reloaded");
    return true;
  }
}
