import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

/**
 * The browser bundle: one self-contained ES module (socket.io-client and the protocol schemas
 * inside) that a page loads with `<script type="module">` to get `<heartline-player>`, no
 * bundler needed. The library build for bundlers is tsc's (scripts/packages.mjs).
 */
export default defineConfig({
  build: {
    outDir: "dist/browser",
    emptyOutDir: true,
    sourcemap: true,
    lib: {
      entry: fileURLToPath(new URL("./src/index.ts", import.meta.url)),
      formats: ["es"],
      fileName: () => "heartline-player.js",
    },
  },
});
