/**
 * The hub's connections to Redis: one for commands and publishing, one for subscriptions (a
 * subscribed Redis connection can do nothing else). Both reconnect by themselves forever with a
 * capped backoff, and nothing waits for Redis while it is down:
 *
 * - commands and publishes fail at once (no offline queue), so a cross-node operation answers
 *   its sender with an error instead of hanging, and nothing stale is sent after recovery;
 * - every publish and (un)subscribe the cluster bus makes is caught: an unhandled rejection
 *   ends a Node process, so without this guard a Redis outage would crash every hub within
 *   seconds (as it did with the socket.io Redis adapter, which never handled these promises);
 * - subscriptions made while Redis is down wait for it (and are restored after every
 *   reconnect), so a hub that starts before Redis still hears the cluster once Redis is up.
 */
import { EventEmitter } from "node:events";
import { Redis } from "ioredis";
import type { Logger } from "pino";

export interface RedisLinkEvents {
  /** Both connections are usable (first connect, or back after an outage). */
  up: [];
  /** A connection was lost; commands fail until `up`. */
  down: [reason: string];
}

/** Reconnect delays: 100 ms, 200 ms, ... up to 2 s, forever. */
function retryDelay(attempt: number): number {
  return Math.min(attempt * 100, 2000);
}

export class RedisLink {
  readonly events = new EventEmitter<RedisLinkEvents>();
  /** Commands and publishes (fail fast while down). */
  readonly commands: Redis;
  /** The same connection as `commands`, for the adapter: `publish` never rejects. */
  readonly publisher: Redis;
  /** For the adapter: subscriptions wait until connected and never reject. */
  readonly subscriber: Redis;
  readonly #subscriptions: Redis;
  #up = false;
  #downSince: number | undefined = Date.now();
  #droppedPublishes = 0;
  readonly #log: Logger;

  constructor(url: string, logger: Logger) {
    this.#log = logger;
    const common = { retryStrategy: retryDelay, connectTimeout: 2000 };
    this.commands = new Redis(url, {
      ...common,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      // Commands (relays above all) issued in the same tick go out in one write.
      enableAutoPipelining: true,
      connectionName: "heartline",
    });
    this.#subscriptions = new Redis(url, {
      ...common,
      maxRetriesPerRequest: null,
      connectionName: "heartline-sub",
    });
    this.publisher = guard(this.commands, ["publish"], () => {
      this.#droppedPublishes += 1;
    });
    this.subscriber = guard(
      this.#subscriptions,
      ["subscribe", "psubscribe", "unsubscribe", "punsubscribe"],
      (error) => {
        this.#log.warn({ err: error.message }, "redis subscription call failed");
      },
    );
    for (const [name, client] of [
      ["commands", this.commands],
      ["subscriber", this.#subscriptions],
    ] as const) {
      client.on("ready", () => {
        this.#update();
      });
      client.on("close", () => {
        this.#update(`the ${name} connection closed`);
      });
      client.on("error", (error: Error) => {
        // ioredis reports each failed reconnect here; the state change is logged once in #update.
        if (this.#up) this.#log.warn({ err: error.message, connection: name }, "redis error");
      });
    }
  }

  /** Both connections are ready. */
  get up(): boolean {
    return this.#up;
  }

  /** When the link went down (epoch ms), or undefined while up. */
  get downSince(): number | undefined {
    return this.#downSince;
  }

  /** Publishes the adapter attempted while Redis was unreachable (they were dropped). */
  get droppedPublishes(): number {
    return this.#droppedPublishes;
  }

  /** Resolves once the link is up, or after `timeoutMs` (whichever comes first). */
  async waitUp(timeoutMs: number): Promise<boolean> {
    if (this.#up) return true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.events.off("up", onUp);
        resolve(false);
      }, timeoutMs);
      const onUp = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.events.once("up", onUp);
    });
  }

  async close(): Promise<void> {
    this.events.removeAllListeners();
    for (const client of [this.#subscriptions, this.commands]) {
      if (client.status === "ready") await client.quit().catch(() => undefined);
      client.disconnect();
    }
  }

  #update(reason?: string): void {
    const up = this.commands.status === "ready" && this.#subscriptions.status === "ready";
    if (up === this.#up) return;
    this.#up = up;
    if (up) {
      const downMs = this.#downSince === undefined ? 0 : Date.now() - this.#downSince;
      this.#downSince = undefined;
      this.#log.info({ downMs, droppedPublishes: this.#droppedPublishes }, "redis link up");
      this.events.emit("up");
    } else {
      this.#downSince = Date.now();
      const why = reason ?? "a connection is not ready";
      this.#log.error(
        { reason: why },
        "redis link down: cross-node sessions cannot relay; same-node sessions continue; reconnecting",
      );
      this.events.emit("down", why);
    }
  }
}

/** `client` whose `methods` resolve to undefined instead of rejecting (the failure is reported). */
function guard(client: Redis, methods: readonly string[], failed: (error: Error) => void): Redis {
  const guarded = new Set(methods);
  return new Proxy(client, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      const method = (value as (...args: unknown[]) => unknown).bind(target);
      if (typeof property !== "string" || !guarded.has(property)) return method;
      return (...args: unknown[]) =>
        (method(...args) as Promise<unknown>).catch((error: unknown) => {
          failed(error instanceof Error ? error : new Error(String(error)));
          return undefined;
        });
    },
  });
}
