/**
 * The hub's HTTP side: the built player at `/`, the dashboard at `/dashboard`, the API under
 * `/api`, health probes and `/metrics`. Errors never leak stack traces or internals.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import express, { type ErrorRequestHandler, type Express, type Router } from "express";
import helmet from "helmet";
import type { Logger } from "pino";
import { clientAddressOf, type TrustProxy } from "../access/forwarded.js";
import { RefusalLog } from "../access/RefusalLog.js";
import type { HubMetrics } from "../metrics/HubMetrics.js";

/** One condition of readiness (listening, not shutting down, Redis reachable). */
export interface ReadinessCheck {
  name: string;
  /**
   * Failing makes the hub `degraded` rather than `not-ready`: it still serves what it can
   * (same-node sessions without Redis). Either way `/readyz` answers 503, so a load balancer
   * sends new viewers to a healthy node while this one keeps its sessions.
   */
  degrades?: boolean;
  /** Resolves to true when ready, or to a sentence saying why not. */
  check(): boolean | string | Promise<boolean | string>;
}

export interface HttpAppOptions {
  /** Folder of the built player and dashboard (`web-client/dist`). */
  webClientDir: string;
  logger: Logger;
  /** Mounted at `/api`. */
  api?: Router;
  /** All must pass for `/readyz` to answer 200; none: ready. */
  readiness?: ReadinessCheck[];
  /** Served at `/metrics`. */
  metrics?: HubMetrics;
  /** Pages are served over HTTPS (TLS here or at a proxy): ask browsers to stay on it. */
  secure?: boolean;
  /** Epic's Pixel Streaming player, mounted at `/ps` (pixelStreaming.enabled). */
  pixelStreamingPage?: Router | undefined;
  /** Throttles the warn lines of refused requests (shared with the hub's other refusals). */
  refusals?: RefusalLog;
  /** The running `trustProxy`, so refusal lines name the client, not the proxy. */
  trustProxy?: () => TrustProxy;
}

/**
 * What a client did wrong, from the error express or its body parser raised (they carry an HTTP
 * status): a code and a sentence that say what to fix. Undefined: the hub's own failure.
 */
function clientError(error: unknown): { status: number; code: string; message: string } | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { status, type } = error as { status?: unknown; type?: unknown };
  if (typeof status !== "number" || status < 400 || status >= 500) return undefined;
  switch (type) {
    case "entity.parse.failed":
      return { status, code: "invalid-json", message: "the request body is not valid JSON" };
    case "entity.too.large": {
      const { limit } = error as { limit?: unknown };
      const size = typeof limit === "number" ? ` (${Math.round(limit / 1024)} KB here)` : "";
      return {
        status,
        code: "body-too-large",
        message: `the request body is larger than this endpoint takes${size}`,
      };
    }
    case "charset.unsupported":
    case "encoding.unsupported":
      return {
        status,
        code: "unsupported-encoding",
        message: "send the body as UTF-8 JSON without compression",
      };
    case "request.aborted":
    case "request.size.invalid":
      return {
        status,
        code: "invalid-request",
        message: "the request body ended early or does not match Content-Length",
      };
  }
  if (error instanceof URIError || /decode/i.test((error as { message?: unknown }).message as string)) {
    return { status, code: "invalid-url", message: "the URL has a malformed %-escape" };
  }
  return { status, code: "invalid-request", message: "the request is malformed" };
}

export function createHttpApp({
  webClientDir,
  logger,
  api,
  readiness = [],
  metrics,
  secure = false,
  pixelStreamingPage,
  refusals = new RefusalLog(),
  trustProxy = () => false,
}: HttpAppOptions): Express {
  const app = express();
  app.disable("x-powered-by");
  // Security headers: a same-origin content policy (the player and dashboard load nothing from
  // elsewhere and connect only to this hub), no framing, no sniffing. Over plain HTTP, on
  // loopback or a LAN, upgrading requests or HSTS would break the page, so only with TLS.
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: { upgradeInsecureRequests: secure ? [] : null },
      },
      strictTransportSecurity: secure,
    }),
  );

  // The process is up and serving HTTP; says nothing about dependencies.
  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });

  app.get("/readyz", async (_req, res) => {
    const failing: Record<string, string> = {};
    let degradedOnly = true;
    for (const { name, degrades = false, ...probe } of readiness) {
      let result: boolean | string;
      try {
        result = await probe.check();
      } catch (error) {
        result = error instanceof Error ? error.message : "check failed";
      }
      if (result === true) continue;
      failing[name] = result === false ? "not ready" : result;
      if (!degrades) degradedOnly = false;
    }
    const ready = Object.keys(failing).length === 0;
    const status = ready ? "ready" : degradedOnly ? "degraded" : "not-ready";
    res.status(ready ? 200 : 503).json(ready ? { status } : { status, failing });
  });

  if (metrics) {
    app.get("/metrics", async (_req, res) => {
      res.type(metrics.contentType).send(await metrics.scrape());
    });
  }

  // No body parser here: a route that takes a body parses it itself, after its admin check, with
  // its own limit (POST /api/player-token: 4 KB).
  if (api) app.use("/api", api);
  if (pixelStreamingPage) app.use("/ps", pixelStreamingPage);

  const dashboard = join(webClientDir, "dashboard.html");
  app.get("/dashboard", (req, res) => {
    // Its assets are relative (./assets/...), so the page must be served without a trailing slash.
    if (req.path.endsWith("/")) {
      res.redirect(301, "/dashboard");
      return;
    }
    if (!existsSync(dashboard)) {
      res
        .status(503)
        .type("text/plain")
        .send(
          "The heartline dashboard is not built yet. Run `pnpm build` (or start the hub with `pnpm hub`).\n",
        );
      return;
    }
    res.set("Cache-Control", "no-cache").sendFile(dashboard);
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
  const onError: ErrorRequestHandler = (error: unknown, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    // Malformed input is the client's mistake: a 4xx saying what to fix, a warn line, no stack.
    const refused = clientError(error);
    if (refused) {
      const { status, code, message } = refused;
      refusals.warn(
        logger,
        {
          status,
          code,
          method: req.method,
          path: req.path.slice(0, 200),
          address: clientAddressOf(req.headers, req.socket.remoteAddress ?? "unknown", trustProxy()),
        },
        "http request refused",
      );
      res.status(status).json({ error: code, message });
      return;
    }
    logger.error({ err: error, path: req.path }, "http request failed");
    res.status(500).type("text/plain").send("Internal error\n");
  };
  app.use(onError);
  return app;
}
