/**
 * Who a request comes from and which origin it was made to, for every transport (socket.io's
 * handshake, the Pixel Streaming upgrade, the HTTP API and the dashboard): the socket's own peer
 * and scheme, or, behind trusted reverse proxies (`trustProxy`), what the nearest untrusted hop
 * was as the proxies recorded it.
 *
 * X-Forwarded-For is a list each proxy appends to, so only its right end is written by proxies
 * we trust; its left end is whatever the client sent. The client is therefore the right-most
 * entry that is not one of our proxies, never the left-most (a client could name anyone there).
 */
import type { IncomingHttpHeaders } from "node:http";

/**
 * `false`: no proxy, headers ignored. `true`: one proxy in front (the socket's peer). A number:
 * that many proxies in a chain. A list: the proxies' own addresses (any hop in it is skipped).
 */
export type TrustProxy = boolean | number | readonly string[];

function entries(value: string | string[] | undefined): string[] {
  const joined = Array.isArray(value) ? value.join(",") : (value ?? "");
  return joined
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
}

/** `::ffff:127.0.0.1` and `127.0.0.1` are one address. */
function normalise(address: string): string {
  return address.startsWith("::ffff:") ? address.slice(7) : address;
}

function trusts(trustProxy: TrustProxy, address: string): boolean {
  if (typeof trustProxy !== "object") return false;
  const normal = normalise(address);
  return trustProxy.some((proxy) => normalise(proxy) === normal);
}

/** How many hops from the right are our proxies, for a given chain (peer last). */
function trustedHops(trustProxy: TrustProxy, chain: readonly string[]): number {
  if (trustProxy === false) return 0;
  if (trustProxy === true) return 1;
  if (typeof trustProxy === "number") return trustProxy;
  let hops = 0;
  for (let i = chain.length - 1; i >= 0 && trusts(trustProxy, chain[i] ?? ""); i -= 1) hops += 1;
  return hops;
}

/** The client's address: the right-most hop of the forwarded chain that is not a trusted proxy. */
export function clientAddressOf(
  headers: IncomingHttpHeaders,
  peerAddress: string,
  trustProxy: TrustProxy,
): string {
  if (trustProxy === false || trustProxy === 0) return peerAddress;
  const chain = [...entries(headers["x-forwarded-for"]), peerAddress];
  const hops = trustedHops(trustProxy, chain);
  // With fewer entries than proxies, the left-most is as far as the proxies saw.
  return chain[Math.max(0, chain.length - 1 - hops)] ?? peerAddress;
}

/** The origin a page served by this hub has, from the request the browser made. */
export function ownOriginOf(
  headers: IncomingHttpHeaders,
  peerAddress: string,
  secure: boolean,
  trustProxy: TrustProxy,
): string {
  // The scheme the nearest proxy saw: the right-most value, and only from a trusted peer.
  const peerTrusted =
    trustProxy === true ||
    (typeof trustProxy === "number" && trustProxy > 0) ||
    trusts(trustProxy, peerAddress);
  const forwardedProto = peerTrusted ? entries(headers["x-forwarded-proto"]).at(-1) : undefined;
  return `${forwardedProto ?? (secure ? "https" : "http")}://${headers.host ?? ""}`;
}

/** Whether pages are served over HTTPS behind a proxy that terminates TLS (any trust at all). */
export function behindProxy(trustProxy: TrustProxy): boolean {
  return (
    trustProxy === true ||
    (typeof trustProxy === "number" && trustProxy > 0) ||
    (typeof trustProxy === "object" && trustProxy.length > 0)
  );
}
