import { defineConfig } from "vite";

/** The hub a `vite` dev server forwards signaling to; the hub's default port. */
const DEV_HUB = "http://127.0.0.1:8080";

export default defineConfig({
  // Relative asset URLs, so the built player works wherever the hub mounts it.
  base: "./",
  build: { outDir: "dist", emptyOutDir: true },
  server: {
    proxy: { "/socket.io": { target: DEV_HUB, ws: true } },
  },
});
