export * from "./version.js";
export * from "./reasons.js";
export * from "./errors.js";
export * from "./messages.js";
export * from "./handshake.js";
export * from "./events.js";
export * from "./parse.js";
export * from "./keepalive.js";
