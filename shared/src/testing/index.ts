/**
 * Test support for every package's tests: free ports, a real Redis server and Chromium's flags
 * (Node only), and a FakeClock (browser-safe; it needs nothing from Node).
 */
export { selfSignedCertificate } from "./certificate.js";
export { CHROMIUM_ARGS, CHROMIUM_PATH } from "./chromium.js";
export { freePort } from "./ports.js";
export { RedisServer } from "./RedisServer.js";
export { FakeClock } from "./FakeClock.js";
