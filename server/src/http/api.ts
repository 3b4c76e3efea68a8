/**
 * The HTTP API under `/api` (docs/api.md). `GET /api/streamers` is public (players see the same
 * list); everything naming players, the config or changing state needs
 * `Authorization: Bearer <admin.token>`.
 */
import { clientAddressOf, type TrustProxy } from "../access/forwarded.js";
import express, { Router, type Request, type RequestHandler } from "express";
import { z } from "zod";
import { StreamerIdSchema } from "@heartline/shared";
import type { AccessPolicy } from "../access/AccessPolicy.js";
import { AdminError } from "@heartline/shared/admin";
import type { HubConfig } from "@heartline/shared/config";
import { bearerToken, GUESS_REFILL_SEC, type AdminAuth } from "../admin/AdminAuth.js";
import type { RefusalLog } from "../access/RefusalLog.js";
import type { Logger } from "pino";
import type { Operator } from "../admin/Operator.js";
import { sessionViews, streamerViews } from "../admin/views.js";
import { ClusterUnavailableError, type ClusterNode } from "../cluster/ClusterNode.js";
import type { Clock } from "@heartline/shared/timing";
import type { SessionRegistry } from "../sessions/SessionRegistry.js";
import { redactConfig } from "./redact.js";

export interface ApiOptions {
  registry: SessionRegistry;
  operator: Operator;
  auth: AdminAuth;
  /** Issues player tokens. */
  access: AccessPolicy;
  clock: Clock;
  /** The running config (it changes on a live reload). */
  config: () => HubConfig;
  /** Multi-node mode: this hub's cluster (undefined when it runs alone). */
  cluster?: () => ClusterNode | undefined;
  /** Refused admin requests are logged here (audit lines, throttled). */
  logger?: Logger;
  refusals?: RefusalLog;
}

/** Who made an admin request, by the address the trusted proxies saw (for the audit log). */
const actorOf = (req: Request, trustProxy: TrustProxy) => ({
  address: clientAddressOf(req.headers, req.socket.remoteAddress ?? "unknown", trustProxy),
  via: "api" as const,
});

/** Body of `POST /api/player-token`. */
const PlayerTokenRequestSchema = z.strictObject({
  /** Restrict the token to this streamer. */
  streamerId: StreamerIdSchema.optional(),
  /** Lifetime in seconds (default: auth.playerTokenTtlSec). */
  ttlSec: z
    .number()
    .int()
    .min(10)
    .max(7 * 86_400)
    .optional(),
});

export function createApiRouter({
  registry,
  operator,
  auth,
  access,
  clock,
  config,
  cluster = () => undefined,
  logger,
  refusals,
}: ApiOptions): Router {
  const router = Router();

  const requireAdmin: RequestHandler = async (req, res, next) => {
    const { address } = actorOf(req, config().trustProxy);
    const check = await auth.checkFrom(address, bearerToken(req.get("authorization")));
    if (check.ok) {
      next();
      return;
    }
    // 403 when the API is off (no credential would help), 401 when the credential is missing or
    // wrong, 429 while this address is locked out for guessing.
    const status =
      check.code === AdminError.Disabled ? 403 : check.code === AdminError.TooManyAttempts ? 429 : 401;
    if (logger && check.code !== AdminError.Disabled) {
      refusals?.warn(
        logger,
        { audit: true, action: "admin-api", address, code: check.code, method: req.method },
        "admin request refused",
      );
    }
    if (status === 401) res.set("WWW-Authenticate", 'Bearer realm="heartline"');
    if (status === 429) res.set("Retry-After", String(GUESS_REFILL_SEC));
    res.status(status).json({ error: check.code, message: check.message });
  };

  router.get("/streamers", (_req, res) => {
    res.json({ streamers: streamerViews(registry) });
  });

  router.get("/sessions", requireAdmin, (_req, res) => {
    res.json({ sessions: sessionViews(registry, clock) });
  });

  router.delete("/sessions/:id", requireAdmin, (req, res) => {
    const result = operator.endSession(req.params.id as string, actorOf(req, config().trustProxy));
    if (result.ok) res.status(204).end();
    else res.status(404).json({ error: result.code, message: result.message });
  });

  router.delete("/streamers/:id", requireAdmin, (req, res) => {
    const result = operator.disconnectStreamer(req.params.id as string, actorOf(req, config().trustProxy));
    if (result.ok) res.status(204).end();
    else res.status(404).json({ error: result.code, message: result.message });
  });

  // The operator's token endpoint: whoever holds the admin token hands out player links.
  router.post("/player-token", requireAdmin, express.json({ limit: "4kb" }), async (req, res) => {
    const parsed = PlayerTokenRequestSchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      res.status(400).json({
        error: "invalid-request",
        message: issue ? `${issue.path.join(".") || "body"}: ${issue.message}` : "invalid body",
      });
      return;
    }
    if (config().auth.playerTokenSecret === undefined) {
      res
        .status(409)
        .json({ error: "no-token-secret", message: "set auth.playerTokenSecret to issue player tokens" });
      return;
    }
    const ttlSec = parsed.data.ttlSec ?? config().auth.playerTokenTtlSec;
    const claims = parsed.data.streamerId === undefined ? {} : { streamerId: parsed.data.streamerId };
    const token = await access.issuePlayerToken(claims, ttlSec);
    const query = new URLSearchParams({
      ...(parsed.data.streamerId === undefined ? {} : { streamer: parsed.data.streamerId }),
      token,
    });
    res.status(201).json({
      token,
      expiresAt: new Date(Date.now() + ttlSec * 1000).toISOString(),
      playerPath: `/?${query.toString()}`,
    });
  });

  // Multi-node: every live node with its streamers and session count, as Redis has them.
  router.get("/cluster", requireAdmin, async (_req, res) => {
    const node = cluster();
    if (!node) {
      res
        .status(404)
        .json({ error: "not-clustered", message: "this hub runs alone (cluster.redisUrl is unset)" });
      return;
    }
    try {
      res.json(await node.view());
    } catch (error) {
      if (!(error instanceof ClusterUnavailableError)) throw error;
      res
        .status(503)
        .json({ error: error.code, message: `${error.message}; try again when /readyz is ready` });
    }
  });

  router.get("/config", requireAdmin, (_req, res) => {
    res.json(redactConfig(config()));
  });

  router.use((_req, res) => {
    res.status(404).json({ error: AdminError.NotFound, message: "no such API endpoint; see docs/api.md" });
  });
  return router;
}
