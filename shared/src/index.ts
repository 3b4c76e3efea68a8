// The protocol only: safe to import from the browser. Node-only config loading lives at
// `@heartline/shared/config`.
export * from "./protocol/index.js";
