import { defineConfig } from "@playwright/test";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "@heartline/shared/testing";

/** Debian's chromium with the flags every test and benchmark uses (shared/src/testing/chromium.ts). */
export default defineConfig({
  testDir: "./tests",
  // Each test runs its own hub, agent (with an ffmpeg encoder) and browser: on two cores,
  // one at a time keeps timing honest.
  workers: 1,
  fullyParallel: false,
  timeout: 90_000,
  expect: { timeout: 15_000 },
  retries: 0,
  reporter: [["list"]],
  outputDir: "../test-results/e2e",
  use: {
    browserName: "chromium",
    viewport: { width: 960, height: 600 },
    launchOptions: {
      executablePath: CHROMIUM_PATH,
      args: [...CHROMIUM_ARGS],
    },
  },
});
