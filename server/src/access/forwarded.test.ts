import { describe, expect, it } from "vitest";
import { clientAddressOf, ownOriginOf } from "./forwarded.js";

const PROXY = "127.0.0.9";

describe("the client address behind reverse proxies", () => {
  it("without trustProxy is the socket's peer, whatever the headers say", () => {
    expect(clientAddressOf({ "x-forwarded-for": "203.0.113.7" }, PROXY, false)).toBe(PROXY);
    expect(clientAddressOf({ "x-forwarded-for": "203.0.113.7" }, PROXY, 0)).toBe(PROXY);
  });

  it("with one proxy is the right-most entry: a client's own X-Forwarded-For cannot name someone else", () => {
    // nginx's $proxy_add_x_forwarded_for appends what it saw to what the client sent.
    const headers = { "x-forwarded-for": "198.51.100.66, 203.0.113.7" };
    expect(clientAddressOf(headers, PROXY, true)).toBe("203.0.113.7");
    expect(clientAddressOf(headers, PROXY, 1)).toBe("203.0.113.7");
    // Repeated headers are one list.
    expect(clientAddressOf({ "x-forwarded-for": ["198.51.100.66", "203.0.113.7"] }, PROXY, true)).toBe(
      "203.0.113.7",
    );
  });

  it("with a hop count skips that many proxies from the right", () => {
    const headers = { "x-forwarded-for": "198.51.100.66, 203.0.113.7, 10.0.0.1" };
    expect(clientAddressOf(headers, PROXY, 2)).toBe("203.0.113.7");
    // Fewer entries than proxies: the left-most is as far as they saw.
    expect(clientAddressOf({ "x-forwarded-for": "203.0.113.7" }, PROXY, 3)).toBe("203.0.113.7");
    expect(clientAddressOf({}, PROXY, 1)).toBe(PROXY);
  });

  it("with a list of proxies skips exactly those, and ignores the headers of a peer not in it", () => {
    const list = [PROXY, "10.0.0.1"];
    const headers = { "x-forwarded-for": "198.51.100.66, 203.0.113.7, 10.0.0.1" };
    expect(clientAddressOf(headers, PROXY, list)).toBe("203.0.113.7");
    expect(clientAddressOf(headers, `::ffff:${PROXY}`, list)).toBe("203.0.113.7");
    expect(clientAddressOf(headers, "192.0.2.1", list)).toBe("192.0.2.1");
  });
});

describe("the hub's own origin behind reverse proxies", () => {
  it("takes the scheme the nearest trusted proxy saw, and only from a trusted peer", () => {
    const headers = { host: "hub.example.com", "x-forwarded-proto": "http, https" };
    expect(ownOriginOf(headers, PROXY, false, true)).toBe("https://hub.example.com");
    expect(ownOriginOf(headers, PROXY, false, false)).toBe("http://hub.example.com");
    expect(ownOriginOf(headers, "192.0.2.1", false, [PROXY])).toBe("http://hub.example.com");
    expect(ownOriginOf(headers, PROXY, false, [PROXY])).toBe("https://hub.example.com");
  });
});
