import type { IncomingMessage, ServerResponse } from "node:http";
import type { Caller } from "../caller.js";
import type { Config } from "../config.js";
import { type RequestScope, requestScope, type StreamCounter } from "../lifecycle.js";
import { capBody } from "./bodyLimit.js";
import { type DoorState, type Refuse, type RouteRequest, RouteTable } from "./routes.js";
import type { Refusal } from "./security.js";
import type { SessionRegistry } from "./sessions.js";

export type McpRouteParts = { config: Config; sseStreams: StreamCounter; sessions: SessionRegistry; state: DoorState };

/**
 * The MCP transports, behind the guard: streamable HTTP on /mcp, legacy SSE on /sse and /messages.
 * Before fastmcp sees a request: the body cap (413, whatever the framing), the shutdown check (503),
 * session ownership (another caller's id is answered as if it did not exist) and the session caps.
 */
export function mcpRoutes(parts: McpRouteParts, refuse: Refuse): RouteTable {
  const serve = (request: RouteRequest & { caller: Caller }) => guardMcp(request, parts, refuse);
  return new RouteTable()
    .add("/mcp", { methods: ["POST", "GET", "DELETE"], access: "guarded", preflight: true, serve })
    .add("/sse", { methods: ["GET"], access: "guarded", preflight: true, serve })
    .add("/messages", { methods: ["POST"], access: "guarded", preflight: true, serve });
}

/** An MCP request whose caller is known, on its way to fastmcp (exported for the connector door, served as /mcp). */
export function guardMcp({ req, res, target, next, caller }: RouteRequest & { caller: Caller }, parts: McpRouteParts, refuse: Refuse): void {
  if (!capBody(req, parts.config.security.maxBodyBytes, (refusal) => refuse(res, refusal))) return;
  if (parts.state.draining) {
    refuse(res, { status: 503, message: "The server is shutting down; reconnect in a moment.", headers: { connection: "close", "retry-after": "1" } });
    return;
  }
  const sessionId = sessionIdOf(req, target);
  const refusal = sessionId === undefined ? sessionCapRefusal(req, target.path, caller, parts) : undefined;
  if (refusal) {
    refuse(res, refusal);
    return;
  }
  const owner = sessionId === undefined ? undefined : parts.sessions.ownerOf(sessionId);
  if (owner !== undefined && owner !== caller.id) {
    answerUnknownSession(res, target.path);
    return;
  }
  if (target.path === "/sse") parts.sseStreams.track(res);
  serveMcp(req, res, next, { caller, sessionId }, parts.sessions);
}

function sessionIdOf(req: IncomingMessage, target: { path: string; query: string }): string | undefined {
  if (target.path === "/messages") return new URLSearchParams(target.query).get("sessionId") ?? undefined;
  const header = req.headers["mcp-session-id"];
  return target.path === "/mcp" ? (Array.isArray(header) ? header[0] : header) : undefined;
}

/** Another caller's session id gets exactly the answer an id that never existed gets (mcp-proxy's). */
function answerUnknownSession(res: ServerResponse, path: string): void {
  if (path === "/messages") res.writeHead(400).end("No active transport");
  else
    res
      .writeHead(404, { "content-type": "application/json" })
      .end(JSON.stringify({ error: { code: -32001, message: "Session not found" }, id: null, jsonrpc: "2.0" }));
}

/** A request that opens a session (a POST to /mcp without an id, or a new SSE stream) within the caps. */
function sessionCapRefusal(req: IncomingMessage, path: string, caller: Caller, parts: McpRouteParts): Refusal | undefined {
  const opens = (path === "/mcp" && req.method === "POST" && !parts.config.stateless) || path === "/sse";
  if (!opens) return undefined;
  const { maxSessions, maxSessionsPerToken, maxSessionsPerAddress } = parts.config.security;
  if (parts.sessions.size >= maxSessions)
    return { status: 503, message: `Too many open sessions (${maxSessions}, MAX_SESSIONS). Try again shortly.`, headers: { "retry-after": "5" } };
  const held = parts.sessions.heldBy(caller);
  if (caller.id !== "open" && held.byOwner >= maxSessionsPerToken) {
    return {
      status: 429,
      message: `This token holds ${held.byOwner} open sessions, the most one token may hold (MAX_SESSIONS_PER_TOKEN). Close some (or let them idle out) first.`,
      headers: { "retry-after": "5" },
    };
  }
  if (held.byAddress >= maxSessionsPerAddress) {
    return {
      status: 429,
      message: `This address holds ${held.byAddress} open sessions, the most one address may hold (MAX_SESSIONS_PER_ADDRESS).`,
      headers: { "retry-after": "5" },
    };
  }
  return undefined;
}

type ScopedRequest = { caller: Caller; sessionId: string | undefined };

/**
 * Hands the request to fastmcp inside its request scope. If the connection goes before the
 * response is written, the client is gone: a call it carried is cancelled.
 */
function serveMcp(req: IncomingMessage, res: ServerResponse, next: () => void, request: ScopedRequest, sessions: SessionRegistry): void {
  const disconnected = new AbortController();
  const releaseRequest = request.sessionId !== undefined && req.method === "POST" ? sessions.hold(request.sessionId) : () => undefined;
  // The scope outlives the request in whatever async work it started (a keep-alive timer, a pooled
  // socket), so it reaches the response only through this handle, emptied when the response closes.
  const handle: { res: ServerResponse | undefined } = { res };
  res.once("close", () => {
    if (!res.writableFinished) disconnected.abort(new Error("the client closed the connection"));
    handle.res = undefined;
    releaseRequest();
  });
  requestScope.run(scopeOf(request, disconnected.signal, handle, sessions), next);
}

function scopeOf(request: ScopedRequest, signal: AbortSignal, handle: { res: ServerResponse | undefined }, sessions: SessionRegistry): RequestScope {
  const { caller, sessionId } = request;
  return {
    caller,
    signal,
    endResponse: () => void (handle.res?.writableEnded === false && handle.res.end()),
    holdSession: () => (sessionId === undefined ? () => undefined : sessions.hold(sessionId)),
  };
}
