import { defineConfig } from "@playwright/test";

/**
 * Debian's chromium (never a downloaded browser). WebRTC stays on loopback: the two loopback
 * flags make Chromium offer 127.0.0.1 host candidates instead of mDNS names.
 */
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
      executablePath: process.env.HEARTLINE_CHROMIUM ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--allow-loopback-in-peer-connection",
        "--disable-features=WebRtcHideLocalIpsWithMdns",
        "--autoplay-policy=no-user-gesture-required",
      ],
    },
  },
});
