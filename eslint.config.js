// @ts-check
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "test-results/**", "playwright-report/**"] },
  js.configs.recommended,
  {
    files: ["**/*.ts"],
    extends: [...tseslint.configs.strictTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    rules: {
      "@typescript-eslint/restrict-template-expressions": [
        "error",
        { allowNumber: true, allowBoolean: true },
      ],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-console": "error",
    },
  },
  // The hub's boundaries, held by machine: sessions and heartbeat know no transport, so a second
  // wire protocol (Pixel Streaming) reuses them instead of copying them.
  {
    files: ["server/src/sessions/**/*.ts", "server/src/heartbeat/**/*.ts"],
    ignores: ["**/*.test.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["socket.io", "socket.io-*", "engine.io", "ws", "express", "ioredis", "@socket.io/*"],
              message: "sessions/ and heartbeat/ are transport-free: take a Peer or a callback instead.",
            },
            {
              group: ["../signaling/*", "../pixelstreaming/*", "../cluster/*", "../http/*"],
              message: "sessions/ and heartbeat/ sit below the transports; pass what you need in.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["server/src/signaling/**/*.ts"],
    ignores: ["**/*.test.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["ws", "../pixelstreaming/*"],
              message: "the socket.io gateway knows nothing of Pixel Streaming.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["server/src/pixelstreaming/**/*.ts"],
    ignores: ["**/*.test.ts", "**/testing/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: [
                "socket.io",
                "socket.io-*",
                "../signaling/SocketIoGateway*",
                "../signaling/MessageRouter*",
                "../signaling/handshake*",
                "../signaling/types*",
              ],
              message: "the Pixel Streaming endpoint speaks plain WebSocket and shares only sessions/.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["web-client/src/**/*.ts", "player/src/**/*.ts"],
    languageOptions: { globals: { ...globals.browser } },
    rules: { "no-console": "off" },
  },
  {
    files: ["**/*.mjs", "**/*.js"],
    languageOptions: { globals: { ...globals.node } },
  },
);
