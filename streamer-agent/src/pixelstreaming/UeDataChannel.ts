/**
 * Unreal's side of the Pixel Streaming data channel: the channel, named `datachannel` as Unreal
 * names it, offered with the video so Epic's frontend adopts it (`ondatachannel`).
 *
 * Nothing is sent on it. Checked with Epic's frontend (UE5.5 1.3.0 and UE5.7 0.3.1) through
 * Wilbur and heartline: video plays, and no error shows, without Unreal's data-channel protocol
 * (`Protocol`, `InitialSettings`, QP reports). The frontend keeps its built-in message table and
 * sends nothing until a streamer announces one; whatever it sends (input, if a viewer clicks) is
 * logged at debug and dropped: the agent has no game to steer.
 */
import type { Logger } from "pino";
import type { SessionChannel } from "../media/PeerSession.js";

export const UE_DATA_CHANNEL_LABEL = "datachannel";

export interface UeDataChannelOptions {
  logger: Logger;
}

export class UeDataChannel implements SessionChannel {
  readonly label = UE_DATA_CHANNEL_LABEL;
  private readonly logger: Logger;

  constructor(options: UeDataChannelOptions) {
    this.logger = options.logger;
  }

  opened(_send: (data: string | Buffer) => void): void {
    this.logger.debug("data channel open");
  }

  received(data: string | Buffer): void {
    const id = typeof data === "string" ? undefined : data[0];
    this.logger.debug({ messageId: id, bytes: data.length }, "data-channel message from the player");
  }

  closed(): void {
    // Nothing runs on a timer.
  }
}
