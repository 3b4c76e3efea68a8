/**
 * Who may open a session with whom, written once for every way a session opens: a subscribe on
 * this node, a subscribe that another node forwards here, and a Pixel Streaming `subscribe`.
 * Each check returns the refusal the player is told, with a code it can act on.
 */
import { ErrorCode } from "@heartline/shared";
import type { Peer, WireProtocol } from "./Peer.js";

export interface Refusal {
  code: ErrorCode;
  message: string;
}

/** The player's own limits: its token's streamer, and how many sessions it holds. */
export function refusePlayer(
  player: Peer,
  streamerId: string,
  subscriptionsPerPlayer: number,
): Refusal | undefined {
  if (player.onlyStreamerId !== undefined && player.onlyStreamerId !== streamerId) {
    return {
      code: ErrorCode.NotAllowed,
      message: `this player's token is for streamer '${player.onlyStreamerId}' only`,
    };
  }
  if (player.sessions.size >= subscriptionsPerPlayer) {
    return {
      code: ErrorCode.TooManySubscriptions,
      message: `a player may hold ${subscriptionsPerPlayer} sessions at once; unsubscribe first`,
    };
  }
  return undefined;
}

/** There is no such streamer (a streamer of another wire protocol is not one to this player). */
export function streamerNotFound(streamerId: string): Refusal {
  return { code: ErrorCode.StreamerNotFound, message: `no streamer '${streamerId}' is connected` };
}

/** The streamer's side: it is here, speaks the player's protocol, and has room. */
export function refuseStreamer(
  streamer: Peer | undefined,
  streamerId: string,
  protocol: WireProtocol,
  maxPlayers: number,
): Refusal | undefined {
  if (!streamer || streamer.protocol !== protocol) return streamerNotFound(streamerId);
  if (streamer.unresponsive) {
    // Its last session just lapsed and it has been silent since: a new one could not work.
    return {
      code: ErrorCode.StreamerNotFound,
      message: `streamer '${streamerId}' is not responding (its heartbeat lapsed); try again when it is back`,
    };
  }
  if (streamer.sessions.size >= maxPlayers) {
    return {
      code: ErrorCode.StreamerFull,
      message: `streamer '${streamerId}' already has ${maxPlayers} players; try again later`,
    };
  }
  return undefined;
}
