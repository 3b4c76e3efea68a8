/**
 * Epic's stock player (built from Epic's npm frontend packages into `ps-player/dist`) at `/ps/`.
 * Its assets are relative and it connects to this hub's own host and port, path `/`: the Pixel
 * Streaming player endpoint. A player link may carry its token as `/ps/?token=…`: the token is
 * moved into an HttpOnly cookie, which the browser sends on that upgrade, and the page is
 * reloaded without it so the token stays out of history, bookmarks and referrers.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import express, { type Router } from "express";
import type { Logger } from "pino";
import { PS_TOKEN_COOKIE } from "./PixelStreamingEndpoint.js";

export interface PixelStreamingPageOptions {
  pageDir: string;
  /** Pages are served over HTTPS: the cookie is `Secure`. */
  secure: boolean;
  /** How long the token cookie lives (the token's own expiry still applies). */
  tokenTtlSec: () => number;
  logger: Logger;
}

export function pixelStreamingPage(options: PixelStreamingPageOptions): Router {
  const router = express.Router();
  router.use((req, res, next) => {
    const token = req.query.token;
    if (typeof token !== "string" || token === "") {
      next();
      return;
    }
    res.cookie(PS_TOKEN_COOKIE, token, {
      httpOnly: true,
      sameSite: "strict",
      secure: options.secure,
      path: "/",
      maxAge: options.tokenTtlSec() * 1000,
    });
    const url = new URL(req.originalUrl, "http://hub");
    url.searchParams.delete("token");
    res.set("Cache-Control", "no-store").redirect(303, url.pathname + url.search);
  });
  if (existsSync(join(options.pageDir, "index.html"))) {
    router.use(express.static(options.pageDir, { index: "index.html", maxAge: "1h" }));
  } else {
    options.logger.warn(
      { pageDir: options.pageDir },
      "Pixel Streaming player not built; /ps/ will explain how to build it",
    );
    router.get("/", (_req, res) => {
      res
        .status(503)
        .type("text/plain")
        .send(
          "The Pixel Streaming player is not built yet. Run `pnpm build` (or start the hub with `pnpm hub`).\n",
        );
    });
  }
  return router;
}
