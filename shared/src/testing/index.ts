/**
 * Test support for every package's tests: free ports, a real Redis server, a network namespace
 * and Chromium's flags (Node only), and a FakeClock (browser-safe; it needs nothing from Node).
 */
export { selfSignedCertificate } from "./certificate.js";
export { CHROMIUM_ARGS, CHROMIUM_PATH } from "./chromium.js";
export { freePort } from "./ports.js";
export { canUseNetns, Netns } from "./Netns.js";
export { RedisServer } from "./RedisServer.js";
export { FakeClock } from "./FakeClock.js";
