/**
 * The Pixel Streaming floor: Wilbur's relay and nothing else, on plain `ws`. Streamers on
 * `/ps/streamer`, players on every other path (socket.io's excepted); `identify` + `config`,
 * `endpointIdConfirm`, `streamerList`, `playerConnected`, relays by a Map lookup with the player's
 * `playerId` set, `pong` for `ping`. No validation, rate limits, access checks, heartbeat,
 * sessions, logging or metrics: what Wilbur (which validates nothing either) costs at most.
 */
import type { Server as HttpServer } from "node:http";
import { WebSocketServer, type RawData, type WebSocket } from "ws";

interface Msg {
  type?: unknown;
  id?: unknown;
  streamerId?: unknown;
  playerId?: unknown;
  time?: unknown;
}

const CONFIG = JSON.stringify({ type: "config", peerConnectionOptions: {}, protocolVersion: "1.3.0" });

function parse(data: RawData): Msg | undefined {
  try {
    const bytes = Array.isArray(data)
      ? Buffer.concat(data)
      : data instanceof ArrayBuffer
        ? Buffer.from(data)
        : data;
    return JSON.parse(bytes.toString("utf8")) as Msg;
  } catch {
    return undefined;
  }
}

export function attachBarePsHub(server: HttpServer, streamerPath = "/ps/streamer"): void {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const streamers = new Map<string, WebSocket>();
  const players = new Map<string, { ws: WebSocket; streamer: WebSocket | undefined }>();
  let next = 0;
  const send = (ws: WebSocket | undefined, msg: unknown) => ws?.send(JSON.stringify(msg));

  const onStreamer = (ws: WebSocket) => {
    let id: string | undefined;
    ws.send(JSON.stringify({ type: "identify" }));
    ws.send(CONFIG);
    ws.on("message", (data) => {
      const msg = parse(data);
      if (msg?.type === "endpointId" && typeof msg.id === "string") {
        id = msg.id;
        streamers.set(id, ws);
        send(ws, { type: "endpointIdConfirm", committedId: id });
      } else if (msg?.type === "ping") {
        send(ws, { type: "pong", time: msg.time ?? 0 });
      } else if (msg && typeof msg.playerId === "string") {
        const player = players.get(msg.playerId);
        if (player?.streamer === ws) send(player.ws, msg);
      }
    });
    ws.on("close", () => {
      if (id !== undefined && streamers.get(id) === ws) streamers.delete(id);
      for (const player of players.values()) if (player.streamer === ws) player.ws.close();
    });
  };

  const onPlayer = (ws: WebSocket) => {
    const playerId = `Player${next++}`;
    const player = { ws, streamer: undefined as WebSocket | undefined };
    players.set(playerId, player);
    ws.send(CONFIG);
    ws.on("message", (data) => {
      const msg = parse(data);
      if (msg?.type === "listStreamers") {
        send(ws, { type: "streamerList", ids: [...streamers.keys()] });
      } else if (msg?.type === "subscribe") {
        const streamer = streamers.get(String(msg.streamerId));
        if (!streamer) {
          send(ws, {
            type: "subscribeFailed",
            message: `Streamer ${String(msg.streamerId)} does not exist.`,
          });
          return;
        }
        send(player.streamer, { type: "playerDisconnected", playerId });
        player.streamer = streamer;
        send(streamer, { type: "playerConnected", dataChannel: true, sfu: false, playerId });
      } else if (msg?.type === "ping") {
        send(ws, { type: "pong", time: msg.time ?? 0 });
      } else if (msg && msg.type !== "pong" && player.streamer) {
        msg.playerId = playerId;
        send(player.streamer, msg);
      }
    });
    ws.on("close", () => {
      players.delete(playerId);
      send(player.streamer, { type: "playerDisconnected", playerId });
    });
  };

  server.on("upgrade", (req, socket, head) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (path.startsWith("/socket.io/")) return;
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (path === streamerPath) onStreamer(ws);
      else onPlayer(ws);
    });
  });
}
