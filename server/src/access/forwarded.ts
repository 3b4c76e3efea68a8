/**
 * Who a request comes from and which origin it was made to, for every transport (socket.io's
 * handshake and the Pixel Streaming upgrade): the socket's own peer and scheme, or, behind a
 * trusted reverse proxy (`trustProxy`), what X-Forwarded-For and X-Forwarded-Proto say.
 */
import type { IncomingHttpHeaders } from "node:http";

function firstHeaderValue(value: string | string[] | undefined): string | undefined {
  const first = (Array.isArray(value) ? value[0] : value)?.split(",")[0]?.trim();
  return first === "" ? undefined : first;
}

/** The client's address: the socket's peer, or the left-most X-Forwarded-For entry. */
export function clientAddressOf(
  headers: IncomingHttpHeaders,
  peerAddress: string,
  trustProxy: boolean,
): string {
  const forwarded = trustProxy ? firstHeaderValue(headers["x-forwarded-for"]) : undefined;
  return forwarded ?? peerAddress;
}

/** The origin a page served by this hub has, from the request the browser made. */
export function ownOriginOf(headers: IncomingHttpHeaders, secure: boolean, trustProxy: boolean): string {
  const forwardedProto = trustProxy ? firstHeaderValue(headers["x-forwarded-proto"]) : undefined;
  return `${forwardedProto ?? (secure ? "https" : "http")}://${headers.host ?? ""}`;
}
