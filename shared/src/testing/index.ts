/** Test support for every package's tests (Node only): free ports and a real Redis server. */
export { CHROMIUM_ARGS, CHROMIUM_PATH } from "./chromium.js";
export { freePort } from "./ports.js";
export { RedisServer } from "./RedisServer.js";
export { FakeClock } from "./FakeClock.js";
