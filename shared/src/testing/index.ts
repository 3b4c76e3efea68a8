/** Test support for every package's tests (Node only): free ports and a real Redis server. */
export { freePort } from "./ports.js";
export { RedisServer } from "./RedisServer.js";
