/**
 * What the bench's processes say to each other over the IPC channel of `fork`: the parent
 * (cli) drives hub children and load workers; they answer with samples.
 */

/** Parent -> hub child. */
export type HubCommand = { type: "memory" } | { type: "stop" };

/** Hub child -> parent. */
export type HubReport =
  { type: "listening"; port: number } | { type: "memory"; heapUsed: number; rss: number };

/**
 * `bare` and `heartline` speak heartline's own protocol over socket.io; `bare-ps` (plain `ws`,
 * Wilbur's relay with nothing else) and `heartline-ps` (heartline with `pixelStreaming.enabled`)
 * speak Epic's Pixel Streaming signalling.
 */
export type HubKind = "bare" | "heartline" | "bare-ps" | "heartline-ps";

/** The signalling a load worker speaks: heartline's own (socket.io) or Pixel Streaming (ws). */
export type Protocol = "native" | "pixelstreaming";

export function protocolOf(hub: string): Protocol {
  return hub.endsWith("-ps") ? "pixelstreaming" : "native";
}

/** A heartline hub as one node of a cluster on a shared Redis (multi-node mode). */
export interface ClusterArgs {
  redisUrl: string;
  nodeId: string;
  keyPrefix: string;
  /** The cluster's shared secret (the same on both nodes, random per scenario). */
  secret: string;
}

/** One worker's share of the load: whole streamers, each with its players. */
export interface WorkerPlan {
  /** The hub the streamers (and this worker's echo client) connect to. */
  url: string;
  /**
   * The hub the players connect to: `url`, or another node of its cluster. Then the worker
   * waits until that node lists its streamers before the players subscribe.
   */
  playerUrl: string;
  /** Prefix of the streamer ids, unique per worker. */
  idPrefix: string;
  streamers: number;
  playersPerStreamer: number;
  intervalMs: number;
  /** Players connect evenly spread over this long. */
  rampMs: number;
  /** Gives up on players that are not subscribed by then. */
  connectTimeoutMs: number;
  /** socket.io-client's `timeout`: a connect whose handshake takes longer fails ("timeout"). */
  handshakeTimeoutMs?: number;
  /** This worker's index (Pixel Streaming players take loopback source addresses by it). */
  worker?: number;
  /** Which load worker runs the plan (default native). */
  protocol?: Protocol;
  /**
   * Every player sends its streamer an ICE candidate every interval, which the streamer sends
   * straight back (the ICE probe, `iceRtt`). Always on for Pixel Streaming, whose heartbeat is
   * not relayed; native only when asked (`--protocol pixelstreaming` runs both with it).
   */
  iceProbe?: boolean;
}

/** Parent -> load worker. */
export type WorkerCommand =
  | { type: "start"; plan: WorkerPlan }
  /** Starts a measurement window: samples taken so far are dropped. */
  | { type: "window" }
  | { type: "collect" }
  /** New ping interval for every session (knee search). */
  | { type: "interval"; ms: number }
  /** Stops pinging `count` sessions on purpose; `timeoutMs` is the hub's heartbeat timeout. */
  | { type: "lapse"; count: number; timeoutMs: number }
  | { type: "stop" };

export interface WindowSamples {
  /** Relay round trips (ms): ping agent -> hub -> player -> hub -> agent. */
  rtt: number[];
  /** Round trips (ms) of a socket.io echo from an idle client of the same worker. */
  echo: number[];
  pingsSent: number;
  pongsReceived: number;
  /** Sessions the hub closed that the bench did not make lapse, by reason. */
  falseTeardowns: Record<string, number>;
  disconnects: number;
  seconds: number;
  /** ICE probe round trips (ms): player -> hub -> streamer -> hub -> player, timed at the player. */
  iceRtt: number[];
  iceSent: number;
  /**
   * Messages the hub forwarded from one end to the other, counted where they arrived: pings,
   * pongs and ICE candidates natively; ICE candidates in Pixel Streaming, whose hub answers and
   * originates its heartbeat itself.
   */
  relayed: number;
}

/** A window with nothing in it yet. */
export function emptyWindow(): WindowSamples {
  return {
    rtt: [],
    echo: [],
    pingsSent: 0,
    pongsReceived: 0,
    falseTeardowns: {},
    disconnects: 0,
    seconds: 0,
    iceRtt: [],
    iceSent: 0,
    relayed: 0,
  };
}

/** Load worker -> parent. */
export type WorkerReport =
  | { type: "progress"; connected: number; subscribed: number; failed: number }
  | {
      type: "ready";
      subscribed: number;
      failed: number;
      /**
       * Every failed connect by its cause (connectCause: the connect_error message and the
       * socket error under it), plus players with no offer by the deadline and streamers that
       * failed; the counts add up to `failed` (streamers: one each, their players apart).
       */
      failures: Record<string, number>;
      /** From the first player's connect to the last player's offer. */
      connectAllMs: number;
      subscribeToOfferMs: number[];
      /** Subscribes sent again after streamer-not-found or cluster-unavailable. */
      subscribeRetries: number;
      /** `streamerList` messages the players received while connecting (the hub pushes them). */
      streamerLists: number;
      /** Cross-node: from start until the players' node listed every streamer of this worker. */
      listedAfterMs?: number;
    }
  | ({ type: "samples" } & WindowSamples)
  | {
      type: "lapsed";
      /** teardown (the player's sessionClosed) - deadline (last ping sent + timeout), ms. */
      lateness: number[];
      reasons: Record<string, number>;
      /** Lapsed sessions the hub never closed within the wait. */
      notClosed: number;
    };
