import {
  HubToPlayerMessageSchema,
  MESSAGE_EVENT,
  describeIssue,
  type HandshakeAuth,
  type HubToPlayerMessage,
  type PlayerEmitEvents,
  type PlayerListenEvents,
  type PlayerToHubMessage,
} from "@heartline/shared";
import { io, type Socket } from "socket.io-client";
import type { HubLink } from "../session/player-session.js";

export type PlayerSocket = Socket<PlayerListenEvents, PlayerEmitEvents>;

export interface HubConnectionEvents {
  /** The `resumeToken` to present on every (re)connection, or null before the first `config`. */
  resumeToken(): string | null;
  connected(): void;
  disconnected(reason: string): void;
  /** @param refusal the hub's handshake error code, or null if it could not be reached. */
  unreachable(refusal: string | null): void;
  /** A hub message that passed `HubToPlayerMessageSchema`. */
  message(message: HubToPlayerMessage): void;
}

/** Wait before reconnecting when socket.io will not do it by itself (server-side disconnect). */
const MANUAL_RECONNECT_MS = 2000;

/**
 * The player's socket to the hub it was served from: websocket only, validated inbound
 * messages, and reconnection even when the hub closed the socket itself.
 */
export function connectToHub(events: HubConnectionEvents): HubLink & { socket: PlayerSocket } {
  const socket: PlayerSocket = io({
    transports: ["websocket"],
    // A callback, so every reconnection presents the token of the latest `config` and resumes.
    auth: (cb) => {
      const resumeToken = events.resumeToken();
      const auth: HandshakeAuth = resumeToken === null ? { role: "player" } : { role: "player", resumeToken };
      cb(auth);
    },
  });

  socket.on("connect", () => {
    events.connected();
  });
  socket.on("disconnect", (reason) => {
    events.disconnected(reason);
    // After a server-side disconnect (e.g. hub shutdown) socket.io does not retry on its own.
    if (!socket.active) window.setTimeout(() => socket.connect(), MANUAL_RECONNECT_MS);
  });
  socket.on("connect_error", (error) => {
    console.warn("heartline: cannot connect to the hub:", error.message);
    // Inactive after an error means the hub refused the handshake (its code is the message);
    // otherwise the hub is just unreachable and socket.io retries by itself.
    const refused = !socket.active;
    events.unreachable(refused ? error.message : null);
    if (refused) window.setTimeout(() => socket.connect(), MANUAL_RECONNECT_MS);
  });
  socket.on(MESSAGE_EVENT, (raw: unknown) => {
    const result = HubToPlayerMessageSchema.safeParse(raw);
    if (!result.success) {
      console.warn("heartline: ignoring invalid hub message:", describeIssue(result.error), raw);
      return;
    }
    events.message(result.data);
  });

  return {
    socket,
    send(message: PlayerToHubMessage) {
      // socket.io would buffer while disconnected and flush on reconnect; a late pong, answer or
      // candidate helps nobody (and a resumed session needs none), so drop it.
      if (socket.connected) socket.emit(MESSAGE_EVENT, message);
    },
  };
}
