/**
 * Preloaded into each hub of a chaos run (`node --expose-gc --import …/hubMemory.ts`): answers
 * `{type: "memory"}` on the IPC channel with the heap used after a full GC, so the leak check
 * compares like with like. The channel does not keep the hub alive, and when the runner goes
 * away the hub is stopped (SIGTERM), so a crashed run leaves no hub behind.
 */
process.on("message", (message: { type?: string }) => {
  if (message.type !== "memory") return;
  (globalThis as { gc?: () => void }).gc?.();
  process.send?.({ type: "memory", heapUsed: process.memoryUsage().heapUsed });
});
process.on("disconnect", () => {
  process.kill(process.pid, "SIGTERM");
});
// After the listeners: adding them refs the channel again.
process.channel?.unref();
