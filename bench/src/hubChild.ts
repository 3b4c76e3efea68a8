/**
 * One hub under test, run alone in this child process so that its CPU and memory are its
 * own: `hubChild.ts bare|heartline|bare-ps|heartline-ps <intervalMs> [<cluster JSON>]`; with
 * the cluster argument (ClusterArgs), heartline runs as a node of that cluster. `heartline-ps`
 * is heartline with `pixelStreaming.enabled`; `bare-ps` is the bare hub with the bare Pixel
 * Streaming relay on its port. Every hub gets the same `/bench-echo` namespace, an idle
 * socket.io echo that tells load-generator delay from relay cost.
 */
import type { Server } from "socket.io";
import { HubConfigSchema } from "@heartline/shared/config";
import { createHub } from "../../server/src/hub.js";
import { createLogger } from "../../server/src/log.js";
import { startBareHub } from "./bareHub.js";
import { attachBarePsHub } from "./barePsHub.js";
import type { ClusterArgs, HubCommand, HubReport } from "./protocol.js";

const kind = process.argv[2];
const intervalMs = Number(process.argv[3] ?? 5000);
const cluster = process.argv[4] === undefined ? undefined : (JSON.parse(process.argv[4]) as ClusterArgs);
const send = (report: HubReport) => process.send?.(report);

function addEcho(io: Pick<Server, "of">): void {
  io.of("/bench-echo").on("connection", (socket) => {
    socket.on("echo", (time: number, ack: (time: number) => void) => {
      ack(time);
    });
  });
}

let port: number;
if (kind === "bare-ps") {
  // engine.io must leave the Pixel Streaming upgrades alone (it ends foreign ones after 1 s).
  const bare = await startBareHub(0, { destroyUpgrade: false });
  attachBarePsHub(bare.httpServer);
  addEcho(bare.io);
  port = bare.port;
} else if (kind === "bare") {
  // Diagnostic only: BENCH_BARE_PING_INTERVAL_MS gives the floor the same engine.io ping
  // cadence heartline derives from its heartbeat, to tell that cost from heartline's own.
  const pingInterval = Number(process.env.BENCH_BARE_PING_INTERVAL_MS ?? 0);
  const bare = await startBareHub(0, pingInterval > 0 ? { pingInterval } : {});
  addEcho(bare.io);
  port = bare.port;
} else {
  // A load test comes from one address and runs hundreds of players per streamer: the per-IP,
  // per-socket and per-streamer limits are raised; everything else is the default.
  const input = {
    port: 0,
    host: "127.0.0.1",
    auth: { open: true },
    log: { level: "warn" },
    heartbeat: { intervalMs },
    maxPlayers: 100_000,
    limits: { connectionsPerIp: 100_000, messagesPerSecond: 100_000, messageBurst: 100_000 },
    ...(cluster && { cluster }),
    ...(kind === "heartline-ps" && { pixelStreaming: { enabled: true } }),
  };
  // cluster.secret (every node signs what it sends on Redis) is new in the config: a schema
  // without it refuses the key, so the nodes are started without it there.
  const parsed = HubConfigSchema.safeParse(input);
  const config =
    parsed.success || !cluster
      ? HubConfigSchema.parse(input)
      : HubConfigSchema.parse({
          ...input,
          cluster: Object.fromEntries(Object.entries(cluster).filter(([key]) => key !== "secret")),
        });
  const hub = createHub(config, { logger: createLogger({ level: "warn", pretty: false }) });
  addEcho(hub.io);
  const url = await hub.listen();
  port = Number(new URL(url).port);
}
send({ type: "listening", port });

process.on("message", (command: HubCommand) => {
  if (command.type === "memory") {
    // A full collection first, so heap figures compare live objects, not garbage.
    (globalThis as { gc?: () => void }).gc?.();
    const { heapUsed, rss } = process.memoryUsage();
    send({ type: "memory", heapUsed, rss });
  } else {
    process.exit(0);
  }
});
process.on("disconnect", () => process.exit(0));
