/**
 * The floor: a relay hub of plain socket.io with nothing but a Map lookup. Same message
 * shapes as heartline, so the same load generator drives both; no validation, no state
 * machine, no heartbeat deadlines, no logging, no metrics.
 */
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server, type ServerOptions, type Socket } from "socket.io";

interface Msg {
  type: string;
  sessionId?: string;
  streamerId?: string;
}

export async function startBareHub(
  port = 0,
  options: Partial<ServerOptions> = {},
): Promise<{ io: Server; port: number; httpServer: HttpServer }> {
  const httpServer = createServer();
  const io = new Server(httpServer, {
    transports: ["websocket"],
    serveClient: false,
    perMessageDeflate: false,
    ...options,
  });
  const streamers = new Map<string, Socket>();
  const sessions = new Map<string, { streamer: Socket; player: Socket }>();
  let next = 0;
  io.on("connection", (socket) => {
    const auth = socket.handshake.auth as { role?: string; streamerId?: string };
    if (auth.role === "streamer" && auth.streamerId) streamers.set(auth.streamerId, socket);
    socket.on("message", (msg: Msg) => {
      if (msg.type === "subscribe") {
        const streamer = streamers.get(msg.streamerId ?? "");
        if (!streamer) return;
        const sessionId = `s${++next}`;
        sessions.set(sessionId, { streamer, player: socket });
        socket.emit("message", { type: "sessionStarted", sessionId, streamerId: msg.streamerId });
        streamer.emit("message", { type: "playerJoined", sessionId });
        return;
      }
      const session = sessions.get(msg.sessionId ?? "");
      if (!session) return;
      (session.streamer === socket ? session.player : session.streamer).emit("message", msg);
    });
  });
  await new Promise<void>((resolve) => httpServer.listen(port, "127.0.0.1", resolve));
  return { io, port: (httpServer.address() as AddressInfo).port, httpServer };
}
