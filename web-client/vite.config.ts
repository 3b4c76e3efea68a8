import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

/** The hub a `vite` dev server forwards signaling to; the hub's default port. */
const DEV_HUB = "http://127.0.0.1:8080";

export default defineConfig({
  // Relative asset URLs, so the built player works wherever the hub mounts it.
  base: "./",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // Two pages: the player (served at /) and the operator dashboard (served at /dashboard).
    rollupOptions: {
      input: {
        player: fileURLToPath(new URL("./index.html", import.meta.url)),
        dashboard: fileURLToPath(new URL("./dashboard.html", import.meta.url)),
      },
    },
  },
  server: {
    proxy: { "/socket.io": { target: DEV_HUB, ws: true } },
  },
});
