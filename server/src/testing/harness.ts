/**
 * Test support: a real hub on a free loopback port and real socket.io clients that record
 * every message, so integration tests read as "streamer sends X, player receives Y".
 */
import { Writable } from "node:stream";
import pino from "pino";
import { io, type Socket } from "socket.io-client";
import { HubConfigSchema, type HubConfig } from "@heartline/shared/config";
import type { HubMessage } from "@heartline/shared";
import { createHub, type Hub } from "../hub.js";

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

export interface TestHub {
  hub: Hub;
  url: string;
  config: HubConfig;
  /** Every log line the hub wrote, parsed. */
  logs: Record<string, unknown>[];
  /** Connects a streamer (closed with the hub). */
  streamer(streamerId?: string, extra?: Record<string, unknown>): Promise<TestPeer>;
  /** Connects a player (closed with the hub). */
  player(extra?: Record<string, unknown>): Promise<TestPeer>;
  /** A player subscribed to `streamerId` (the streamer is connected first if needed). */
  session(streamerId?: string): Promise<{ s: TestPeer; p: TestPeer; sessionId: string }>;
  close(): Promise<void>;
}

export async function startHub(overrides: DeepPartial<HubConfig> = {}): Promise<TestHub> {
  // Open mode unless a test is about access control: it must be explicit, as in production.
  const config = HubConfigSchema.parse({ port: 0, host: "127.0.0.1", auth: { open: true }, ...overrides });
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      }
      callback();
    },
  });
  const logger = pino({ level: "debug" }, sink);
  const hub = createHub(config, { logger });
  const url = await hub.listen();
  const peers: TestPeer[] = [];
  const streamers = new Map<string, TestPeer>();
  const connect = async (auth: Record<string, unknown>): Promise<TestPeer> => {
    const peer = await TestPeer.connect(url, auth);
    peers.push(peer);
    return peer;
  };
  const testHub: TestHub = {
    hub,
    url,
    config,
    logs,
    streamer: async (streamerId = "cam1", extra = {}) => {
      const peer = await connect({ role: "streamer", streamerId, ...extra });
      streamers.set(streamerId, peer);
      return peer;
    },
    player: (extra = {}) => connect({ role: "player", ...extra }),
    session: async (streamerId = "cam1") => {
      const s = streamers.get(streamerId) ?? (await testHub.streamer(streamerId));
      const p = await testHub.player();
      p.send({ type: "subscribe", streamerId });
      const started = await p.next("sessionStarted");
      const joined = await s.next("playerJoined", (m) => m.sessionId === started.sessionId);
      return { s, p, sessionId: joined.sessionId };
    },
    close: async () => {
      for (const peer of peers) peer.close();
      await hub.close();
    },
  };
  return testHub;
}

export class TestPeer {
  readonly received: HubMessage[] = [];
  /** Every message ever received (`received` loses the ones `next` takes). */
  readonly seen: HubMessage[] = [];
  readonly socket: Socket;
  readonly #waiters: { predicate: (m: HubMessage) => boolean; resolve: (m: HubMessage) => void }[] = [];

  constructor(url: string, auth: unknown) {
    this.socket = io(url, {
      transports: ["websocket"],
      auth: auth as object,
      reconnection: false,
      forceNew: true,
    });
    this.socket.on("message", (message: HubMessage) => {
      this.received.push(message);
      this.seen.push(message);
      for (const waiter of [...this.#waiters]) {
        if (waiter.predicate(message)) {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          waiter.resolve(message);
        }
      }
    });
  }

  static async connect(url: string, auth: unknown): Promise<TestPeer> {
    const peer = new TestPeer(url, auth);
    await peer.next("config");
    return peer;
  }

  /** Sends anything as the `message` event, valid or not. */
  send(message: unknown): void {
    this.socket.emit("message", message);
  }

  /** The next message of `type` (one already received and not yet taken counts). */
  next<T extends HubMessage["type"]>(
    type: T,
    filter: (m: Extract<HubMessage, { type: T }>) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<Extract<HubMessage, { type: T }>> {
    const predicate = (m: HubMessage): boolean =>
      m.type === type && filter(m as Extract<HubMessage, { type: T }>);
    const index = this.received.findIndex(predicate);
    if (index >= 0) {
      const [found] = this.received.splice(index, 1);
      return Promise.resolve(found as Extract<HubMessage, { type: T }>);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(
            `no '${type}' message within ${timeoutMs} ms; received: ${JSON.stringify(this.received)}`,
          ),
        );
      }, timeoutMs);
      this.#waiters.push({
        predicate,
        resolve: (m) => {
          clearTimeout(timer);
          const i = this.received.indexOf(m);
          if (i >= 0) this.received.splice(i, 1);
          resolve(m as Extract<HubMessage, { type: T }>);
        },
      });
    });
  }

  /** Says goodbye: the hub ends this peer's sessions at once. */
  close(): void {
    this.socket.disconnect();
  }

  /** Drops the connection without a goodbye (as a network failure would): the hub keeps the peer for a resume. */
  drop(): Promise<void> {
    const gone = new Promise<void>((resolve) => {
      this.socket.once("disconnect", () => {
        resolve();
      });
    });
    this.socket.io.engine.close();
    return gone;
  }

  /** The resume token from the last `config` this peer received. */
  get resumeToken(): string {
    for (let i = this.seen.length - 1; i >= 0; i--) {
      const message = this.seen[i];
      if (message?.type === "config") return message.resumeToken;
    }
    throw new Error("no config received yet");
  }
}

/** A connect attempt that the hub refuses: resolves to the connect_error message (the code). */
export function refusedHandshake(url: string, auth: unknown): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = io(url, {
      transports: ["websocket"],
      auth: auth as object,
      reconnection: false,
      forceNew: true,
    });
    socket.on("connect", () => {
      socket.disconnect();
      reject(new Error("handshake was accepted"));
    });
    socket.on("connect_error", (error) => {
      socket.disconnect();
      resolve(error.message);
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
