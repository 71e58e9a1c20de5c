import type { IncomingMessage, ServerResponse } from "node:http";
import type { Caller } from "../caller.js";
import type { Config } from "../config.js";
import { requestScope, type RequestScope, type StreamCounter } from "../lifecycle.js";
import type { Metrics } from "../metrics.js";
import { limitBody } from "./bodyLimit.js";
import { Guard, clientAddress } from "./guard.js";
import { health, type ReadinessProbe } from "./probes.js";
import { sendJson } from "./respond.js";
import { checkHostAndOrigin, type Refusal } from "./security.js";
import type { SessionRegistry } from "./sessions.js";
import { canonicalTarget } from "./target.js";

type Route = { methods: readonly string[]; kind: "open" | "metrics" | "mcp" };

/** Every route this server has. A request for anything else is guarded like the rest, then 404. */
const ROUTES = new Map<string, Route>([
  ["/health", { methods: ["GET", "HEAD"], kind: "open" }],
  ["/ready", { methods: ["GET", "HEAD"], kind: "open" }],
  ["/metrics", { methods: ["GET", "HEAD"], kind: "metrics" }],
  ["/mcp", { methods: ["POST", "GET", "DELETE"], kind: "mcp" }],
  ["/sse", { methods: ["GET"], kind: "mcp" }],
  ["/messages", { methods: ["POST"], kind: "mcp" }],
]);

export type DoorState = { draining: boolean };

export type FrontDoorParts = {
  config: Config;
  metrics: Metrics;
  sseStreams: StreamCounter;
  sessions: SessionRegistry;
  readiness: ReadinessProbe;
  state: DoorState;
};

/**
 * Everything HTTP that is ours rather than fastmcp's. The path is read once, in canonical form
 * (400 otherwise), and only that path is routed. /health, /ready and /.well-known/ (404: no OAuth
 * metadata) are open; every other request,
 * whatever its path or method, passes the guard (Host/Origin, failed-login limit, token, rate), and
 * then: /metrics answers; an MCP route gets the body cap (413), the shutdown check (503), the
 * session checks (ownership, caps) and goes to fastmcp; anything else is 404 or 405.
 */
export type FrontDoor = (req: IncomingMessage, res: ServerResponse, next: () => void) => Promise<void>;

export function createFrontDoor(parts: FrontDoorParts): FrontDoor {
  const { config, metrics, sessions, state } = parts;
  const security = config.security;
  const guard = new Guard(security);
  const refuse = (res: ServerResponse, refusal: Refusal) => {
    metrics.refused(refusal.status);
    if (!res.headersSent) sendJson(res, refusal.status, { error: refusal.message }, refusal.headers);
  };

  return async (req, res, next) => {
    const target = canonicalTarget(req.url);
    if (!target) return refuse(res, { status: 400, message: "The request path is not in canonical form (no dot segments, percent-encoding, fragments, backslashes or empty segments)." });
    const route = ROUTES.get(target.path);
    const method = req.method ?? "GET";
    const allowed = route?.methods.includes(method) ?? false;
    if (target.path.startsWith("/.well-known/")) {
      // Public by nature (RFC 8615), and no OAuth is offered here: a 404, not a 401, tells clients
      // that probe for OAuth metadata (mcp-remote, the SDK's) to use the static token they were given.
      return sendJson(res, 404, { error: `Nothing is served at ${target.path}: this server takes a static bearer token.` });
    }
    if (route?.kind === "open" && allowed) {
      if (target.path === "/health") return health(res);
      if (state.draining) return sendJson(res, 503, { status: "draining" });
      return parts.readiness.answer(res, guard.identify(req, clientAddress(req, security.clientIpHeader)) !== undefined);
    }
    if (method === "OPTIONS" && route?.kind === "mcp") {
      // A browser's CORS preflight carries no token: the Host/Origin check, then fastmcp's answer.
      const refusal = checkHostAndOrigin(req, security);
      return refusal ? refuse(res, refusal) : next();
    }
    const verdict = guard.check(req, route?.kind === "metrics" && security.metricsToken ? [security.metricsToken] : undefined);
    if ("refusal" in verdict) return refuse(res, verdict.refusal);
    if (!route) return refuse(res, { status: 404, message: `Nothing is served at ${target.path}.` });
    if (!allowed) return refuse(res, { status: 405, message: `${method} is not allowed on ${target.path}.`, headers: { allow: route.methods.join(", ") } });
    if (route.kind === "metrics") {
      res.writeHead(200, { "content-type": metrics.registry.contentType });
      return void res.end(method === "HEAD" ? undefined : await metrics.registry.metrics());
    }
    if (method === "POST") {
      if (Number(req.headers["content-length"] ?? 0) > security.maxBodyBytes) return refuse(res, bodyTooLarge(security.maxBodyBytes));
      limitBody(req, security.maxBodyBytes, () => refuse(res, { ...bodyTooLarge(security.maxBodyBytes), headers: { connection: "close" } }));
    }
    if (state.draining) return refuse(res, { status: 503, message: "The server is shutting down; reconnect in a moment.", headers: { connection: "close", "retry-after": "1" } });
    const sessionId = sessionIdOf(req, target);
    if (sessionId !== undefined) {
      const owner = sessions.ownerOf(sessionId);
      if (owner !== undefined && owner !== verdict.caller.id) return answerUnknownSession(res, target.path);
    } else {
      const refusal = sessionCapRefusal(req, target.path, verdict.caller, parts);
      if (refusal) return refuse(res, refusal);
    }
    if (target.path === "/sse") parts.sseStreams.track(res);
    serveMcp(req, res, next, { caller: verdict.caller, path: target.path, sessionId }, parts);
  };
}

function bodyTooLarge(maxBytes: number): Refusal {
  return { status: 413, message: `The request body is larger than ${maxBytes} bytes (MAX_BODY_BYTES).` };
}

function sessionIdOf(req: IncomingMessage, target: { path: string; query: string }): string | undefined {
  if (target.path === "/messages") return new URLSearchParams(target.query).get("sessionId") ?? undefined;
  const header = req.headers["mcp-session-id"];
  return target.path === "/mcp" ? (Array.isArray(header) ? header[0] : header) : undefined;
}

/** Another caller's session id gets exactly the answer an id that never existed gets (mcp-proxy's). */
function answerUnknownSession(res: ServerResponse, path: string): void {
  if (path === "/messages") return void res.writeHead(400).end("No active transport");
  res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { code: -32001, message: "Session not found" }, id: null, jsonrpc: "2.0" }));
}

/** A request that opens a session (a POST to /mcp without an id, or a new SSE stream) within the caps. */
function sessionCapRefusal(req: IncomingMessage, path: string, caller: Caller, parts: FrontDoorParts): Refusal | undefined {
  const opens = (path === "/mcp" && req.method === "POST" && !parts.config.stateless) || path === "/sse";
  if (!opens) return undefined;
  const { maxSessions, maxSessionsPerToken, maxSessionsPerAddress } = parts.config.security;
  if (parts.sessions.size >= maxSessions) return { status: 503, message: `Too many open sessions (${maxSessions}, MAX_SESSIONS). Try again shortly.`, headers: { "retry-after": "5" } };
  const held = parts.sessions.heldBy(caller);
  if (caller.id !== "open" && held.byOwner >= maxSessionsPerToken) {
    return { status: 429, message: `This token holds ${held.byOwner} open sessions, the most one token may hold (MAX_SESSIONS_PER_TOKEN). Close some (or let them idle out) first.`, headers: { "retry-after": "5" } };
  }
  if (held.byAddress >= maxSessionsPerAddress) {
    return { status: 429, message: `This address holds ${held.byAddress} open sessions, the most one address may hold (MAX_SESSIONS_PER_ADDRESS).`, headers: { "retry-after": "5" } };
  }
  return undefined;
}

/**
 * Hands the request to fastmcp inside its request scope. If the connection goes before the
 * response is written, the client is gone: a call it carried is cancelled.
 */
function serveMcp(req: IncomingMessage, res: ServerResponse, next: () => void, request: ScopedRequest, parts: FrontDoorParts): void {
  const disconnected = new AbortController();
  const releaseRequest = request.sessionId !== undefined && req.method === "POST" ? parts.sessions.hold(request.sessionId) : () => undefined;
  // The scope outlives the request in whatever async work it started (a keep-alive timer, a pooled
  // socket), so it reaches the response only through this handle, emptied when the response closes.
  const handle: { res: ServerResponse | undefined } = { res };
  res.once("close", () => {
    if (!res.writableFinished) disconnected.abort(new Error("the client closed the connection"));
    handle.res = undefined;
    releaseRequest();
  });
  requestScope.run(scopeOf(request, disconnected.signal, handle, parts.sessions), next);
}

type ScopedRequest = { caller: Caller; path: string; sessionId: string | undefined };

function scopeOf(request: ScopedRequest, signal: AbortSignal, handle: { res: ServerResponse | undefined }, sessions: SessionRegistry): RequestScope {
  const { caller, sessionId } = request;
  return {
    caller,
    signal,
    endResponse: () => void (handle.res?.writableEnded === false && handle.res.end()),
    holdSession: () => (sessionId === undefined ? () => undefined : sessions.hold(sessionId)),
  };
}
