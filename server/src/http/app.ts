/**
 * The hub's HTTP side: the built player at `/` and a liveness probe. Errors never leak stack
 * traces or internals.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import express, { type ErrorRequestHandler, type Express } from "express";
import type { Logger } from "pino";

export interface HttpAppOptions {
  /** Folder of the built player (`web-client/dist`). */
  webClientDir: string;
  logger: Logger;
}

export function createHttpApp({ webClientDir, logger }: HttpAppOptions): Express {
  const app = express();
  app.disable("x-powered-by");

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });

  if (existsSync(join(webClientDir, "index.html"))) {
    app.use(express.static(webClientDir, { index: "index.html", maxAge: "1h", immutable: false }));
  } else {
    logger.warn({ webClientDir }, "player not built; / will explain how to build it");
    app.get("/", (_req, res) => {
      res
        .status(503)
        .type("text/plain")
        .send(
          "The heartline player is not built yet. Run `pnpm build` (or start the hub with `pnpm hub`).\n",
        );
    });
  }

  app.use((_req, res) => {
    res.status(404).type("text/plain").send("Not found\n");
  });
  const onError: ErrorRequestHandler = (error: unknown, req, res, _next) => {
    logger.error({ err: error, path: req.path }, "http request failed");
    res.status(500).type("text/plain").send("Internal error\n");
  };
  app.use(onError);
  return app;
}
