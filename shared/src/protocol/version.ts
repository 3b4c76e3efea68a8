/**
 * Version of the wire protocol described in docs/protocol.md. Bumped on any change a
 * third-party streamer would have to follow; sent to every peer in `config`.
 */
export const PROTOCOL_VERSION = 1;
