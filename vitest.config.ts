import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: [
      "{shared,server,streamer-agent,player,web-client}/src/**/*.test.ts",
      "bench/src/**/*.test.ts",
      "chaos/src/**/*.test.ts",
    ],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
