/**
 * The clients, in the parent process: relay pairs of a streamer-like socket that pings and a
 * player-like socket that answers at once. Every ping is recorded with the time it was sent and
 * the time its pong came back (if it did), so that any window can be summarised afterwards.
 */
import { io as connect, type Socket } from "socket.io-client";
import type { ClientToNode, Group, NodeToClient, PairAuth, Role } from "./protocol.js";

type ClientSocket = Socket<NodeToClient, ClientToNode>;

export interface PingRecord {
  group: Group;
  /** performance.now() when the ping was emitted. */
  sentAt: number;
  /** performance.now() when its pong arrived; undefined while unanswered. */
  answeredAt: number | undefined;
}

export interface PairPlan {
  group: Group;
  count: number;
  streamerUrl: string;
  playerUrl: string;
}

interface Pair {
  group: Group;
  streamer: ClientSocket;
  player: ClientSocket;
  pending: Map<number, PingRecord>;
  seq: number;
  /** Pongs up to this sequence number belong to records dropped by `clear()`. */
  clearedUpTo: number;
  timer: NodeJS.Timeout | undefined;
}

const CONNECT_TIMEOUT_MS = 10_000;
const CONNECT_BATCH = 25;

async function open(url: string, auth: PairAuth): Promise<ClientSocket> {
  const socket: ClientSocket = connect(url, {
    auth: { ...auth },
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
    timeout: CONNECT_TIMEOUT_MS,
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => {
      resolve();
    });
    socket.once("connect_error", (error) => {
      reject(new Error(`${auth.role} of pair ${auth.pair} could not connect to ${url}: ${error.message}`));
    });
  });
  return socket;
}

export class Load {
  /** Every ping since the last `clear()`, in the order sent. */
  records: PingRecord[] = [];
  /** Pongs for a ping already answered (a replayed message would show here). */
  duplicates = 0;
  readonly #pairs: Pair[] = [];

  private constructor() {}

  /** Connects every pair (player first, then streamer), a batch at a time. */
  static async connect(plans: PairPlan[]): Promise<Load> {
    const load = new Load();
    const todo: { plan: PairPlan; pair: number }[] = [];
    let next = 0;
    for (const plan of plans) for (let i = 0; i < plan.count; i++) todo.push({ plan, pair: next++ });
    try {
      for (let i = 0; i < todo.length; i += CONNECT_BATCH) {
        await Promise.all(todo.slice(i, i + CONNECT_BATCH).map(({ plan, pair }) => load.#add(plan, pair)));
      }
    } catch (error) {
      load.close();
      throw error;
    }
    return load;
  }

  async #add(plan: PairPlan, pair: number): Promise<void> {
    const auth = (role: Role): PairAuth => ({ pair, role, group: plan.group });
    const player = await open(plan.playerUrl, auth("player"));
    let streamer: ClientSocket;
    try {
      streamer = await open(plan.streamerUrl, auth("streamer"));
    } catch (error) {
      player.close();
      throw error;
    }
    const entry: Pair = {
      group: plan.group,
      streamer,
      player,
      pending: new Map(),
      seq: 0,
      clearedUpTo: 0,
      timer: undefined,
    };
    player.on("relayPing", (seq) => {
      player.emit("relayPong", seq);
    });
    streamer.on("relayPong", (seq) => {
      const record = entry.pending.get(seq);
      if (record) {
        record.answeredAt = performance.now();
        entry.pending.delete(seq);
      } else if (seq > entry.clearedUpTo) {
        this.duplicates += 1;
      }
    });
    this.#pairs.push(entry);
  }

  /** Every pair of `groups` pings `rateHz` times a second, each with its own random phase. */
  start(rateHz: number, groups: readonly Group[]): void {
    this.stop();
    const periodMs = 1000 / rateHz;
    for (const pair of this.#pairs) {
      if (!groups.includes(pair.group)) continue;
      pair.timer = setTimeout(() => {
        this.#ping(pair);
        pair.timer = setInterval(() => {
          this.#ping(pair);
        }, periodMs);
      }, Math.random() * periodMs);
    }
  }

  #ping(pair: Pair): void {
    const seq = ++pair.seq;
    const record: PingRecord = { group: pair.group, sentAt: performance.now(), answeredAt: undefined };
    this.records.push(record);
    pair.pending.set(seq, record);
    pair.streamer.emit("relayPing", seq);
  }

  stop(): void {
    for (const pair of this.#pairs) {
      clearTimeout(pair.timer);
      clearInterval(pair.timer);
      pair.timer = undefined;
    }
  }

  /** Forgets every record (pongs still in flight for them are ignored). */
  clear(): void {
    this.records = [];
    this.duplicates = 0;
    for (const pair of this.#pairs) {
      pair.pending.clear();
      pair.clearedUpTo = pair.seq;
    }
  }

  close(): void {
    this.stop();
    for (const pair of this.#pairs) {
      pair.streamer.close();
      pair.player.close();
    }
    this.#pairs.length = 0;
  }
}
