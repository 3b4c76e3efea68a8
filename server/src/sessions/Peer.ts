import type { HubMessage, Role } from "@heartline/shared";
import type { Session } from "./Session.js";

/**
 * One connected socket as the sessions layer sees it: the identity the hub gave it and a way to
 * send. Routing only ever trusts these fields, never ids a client claims in a message.
 */
export interface Peer {
  /** Hub-issued, unique per connection. */
  readonly id: string;
  readonly role: Role;
  /** Set for streamers (validated at the handshake). */
  readonly streamerId: string | undefined;
  /** Sessions this peer is an end of. */
  readonly sessions: Set<Session>;
  send(message: HubMessage): void;
}
