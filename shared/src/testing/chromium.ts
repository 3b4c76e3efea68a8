/**
 * How every test and benchmark runs Debian's chromium (never a downloaded browser). WebRTC stays
 * on loopback: the two loopback flags make Chromium offer 127.0.0.1 host candidates instead of
 * mDNS names, and autoplay needs no click.
 */
export const CHROMIUM_PATH = process.env.HEARTLINE_CHROMIUM ?? "/usr/bin/chromium";

export const CHROMIUM_ARGS: readonly string[] = [
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
];
