import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

/** The lib the UE5.7 UI package and the page share (see the override in pnpm-workspace.yaml). */
const UE57_FRONTEND = "@epicgames-ps/lib-pixelstreamingfrontend-ue5.7";

export default defineConfig({
  // Relative asset URLs: the hub serves the pages at /ps/, and any static server works too.
  base: "./",
  resolve: {
    // Belt and braces for the pnpm override: one copy of each frontend lib in the bundle, so
    // the UI's `instanceof` checks and the stream's event types are the page's own.
    dedupe: [UE57_FRONTEND, "@epicgames-ps/lib-pixelstreamingfrontend-ue5.5"],
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // Epic's frontend is big (UI + stats + input); one chunk per page is what it is.
    chunkSizeWarningLimit: 2048,
    rollupOptions: {
      input: {
        "ue5.5": fileURLToPath(new URL("./index.html", import.meta.url)),
        "ue5.7": fileURLToPath(new URL("./ue5.7/index.html", import.meta.url)),
      },
      // What both pages share (jss, sdp, …) is one chunk, named for what it is.
      output: { chunkFileNames: "assets/shared-[hash].js" },
    },
  },
});
