import type { IncomingMessage, ServerResponse } from "node:http";
import type { AppContext } from "../app.js";
import { requestScope } from "../lifecycle.js";
import type { FrontDoor } from "./listener.js";
import { health, ready } from "./probes.js";
import { RateLimiter } from "./rateLimit.js";
import { sendJson } from "./respond.js";
import { bearerToken, checkBearer, checkHostAndOrigin, type Refusal } from "./security.js";

const MCP_PATHS = new Set(["/mcp", "/sse", "/messages"]);

export function pathOf(url: string | undefined): string {
  const path = (url ?? "/").split("?")[0] ?? "/";
  return path.length > 1 ? path.replace(/\/+$/, "") : path;
}

/** Opens a session: a streamable-HTTP POST without a session id, or a new SSE stream. */
function opensSession(req: IncomingMessage, path: string): boolean {
  return (path === "/mcp" && req.method === "POST" && !req.headers["mcp-session-id"]) || (path === "/sse" && req.method === "GET");
}

export type DoorState = { draining: boolean };

/**
 * Everything HTTP that is ours rather than fastmcp's, in order: open probes; then for the MCP
 * endpoints Host/Origin (403), shutdown (503), bearer auth (401), rate limit (429), body size (413)
 * and the session cap (503); /metrics behind its own token.
 */
export function createFrontDoor(app: AppContext, state: DoorState): FrontDoor {
  const security = app.config.security;
  const limiter = new RateLimiter(security.rateLimitPerMinute);
  const refuse = (res: ServerResponse, refusal: Refusal) => {
    app.metrics.refused(refusal.status);
    sendJson(res, refusal.status, { error: refusal.message }, refusal.headers);
  };

  const guard = (req: IncomingMessage, path: string): Refusal | undefined => {
    const origin = checkHostAndOrigin(req, security);
    if (origin) return origin;
    if (state.draining) return { status: 503, message: "The server is shutting down; reconnect in a moment.", headers: { connection: "close", "retry-after": "1" } };
    const auth = checkBearer(req, security.authTokens);
    if (auth) return auth;
    const waitMs = limiter.take(bearerToken(req) ?? req.socket.remoteAddress ?? "unknown");
    if (waitMs > 0) {
      return { status: 429, message: `Too many requests: the limit is ${security.rateLimitPerMinute} a minute (RATE_LIMIT_PER_MINUTE).`, headers: { "retry-after": String(Math.ceil(waitMs / 1000)) } };
    }
    if (Number(req.headers["content-length"] ?? 0) > security.maxBodyBytes) {
      return { status: 413, message: `The request body is larger than ${security.maxBodyBytes} bytes (MAX_BODY_BYTES).` };
    }
    if (opensSession(req, path) && app.sessions.count() >= security.maxSessions) {
      return { status: 503, message: `Too many open sessions (${security.maxSessions}, MAX_SESSIONS). Try again shortly.`, headers: { "retry-after": "5" } };
    }
    return undefined;
  };

  return async (req, res, next) => {
    const path = pathOf(req.url);
    const isRead = req.method === "GET" || req.method === "HEAD";
    if (isRead && path === "/health") return health(req, res);
    if (isRead && path === "/ready") return state.draining ? sendJson(res, 503, { status: "draining" }) : ready(app, req, res);
    if (isRead && path === "/metrics") {
      const refusal = checkBearer(req, security.metricsToken ? [security.metricsToken] : security.authTokens);
      if (refusal) return refuse(res, refusal);
      res.writeHead(200, { "content-type": app.metrics.registry.contentType });
      return void res.end(await app.metrics.registry.metrics());
    }
    if (!MCP_PATHS.has(path)) return next();
    const refusal = guard(req, path);
    if (refusal) return refuse(res, refusal);
    if (path === "/sse" && req.method === "GET") app.sseStreams.track(res);
    if (req.method !== "POST" || path !== "/mcp") return next();
    // A streamable-HTTP call is done when its response is written, not when its tool returns;
    // and if its connection goes before that, the client is gone: cancel the call.
    const disconnected = new AbortController();
    const closed = new Promise<void>((resolve) =>
      res.once("close", () => {
        if (!res.writableFinished) disconnected.abort(new Error("the client closed the connection"));
        resolve();
      }),
    );
    void app.inFlight.track(closed);
    requestScope.run({ signal: disconnected.signal }, next);
  };
}
