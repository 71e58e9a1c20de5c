import type { IncomingMessage, ServerResponse } from "node:http";
import type { Connector } from "../connector/connector.js";
import type { Metrics } from "../metrics.js";
import { connectorRoutes } from "./connectorRoutes.js";
import { Guard, clientAddress } from "./guard.js";
import { mcpRoutes, type McpRouteParts } from "./mcpRoutes.js";
import { health, type ReadinessProbe } from "./probes.js";
import { sendJson } from "./respond.js";
import type { RouteTable } from "./routes.js";
import { checkHostAndOrigin, type Refusal } from "./security.js";
import { canonicalTarget } from "./target.js";

export type DoorState = { draining: boolean };

export type FrontDoorParts = McpRouteParts & { metrics: Metrics; readiness: ReadinessProbe; connector?: Connector };

export type FrontDoor = (req: IncomingMessage, res: ServerResponse, next: () => void) => Promise<void>;

export type Refuse = (res: ServerResponse, refusal: Refusal) => void;

/**
 * Everything HTTP that is ours rather than fastmcp's. The path is read once, in canonical form
 * (400 otherwise), and only that path is routed, from one table. Open routes answer anyone; every
 * other request, whatever its path or method, passes the guard (Host/Origin, failed-login limit,
 * token, rate) before its route is even looked at: an unknown path is 401 without a token, 404
 * with one; a known path with another method is 405.
 */
export function createFrontDoor(parts: FrontDoorParts): FrontDoor {
  const { config, metrics } = parts;
  const guard = new Guard(config.security);
  const refuse: Refuse = (res, refusal) => {
    metrics.refused(refusal.status);
    if (!res.headersSent) sendJson(res, refusal.status, { error: refusal.message }, refusal.headers);
  };
  const routes = serverRoutes(parts, guard, refuse);

  return async (req, res, next) => {
    const target = canonicalTarget(req.url);
    if (!target) return refuse(res, { status: 400, message: "The request path is not in canonical form (no dot segments, percent-encoding, fragments, backslashes or empty segments)." });
    const route = routes.find(target.path);
    const method = req.method ?? "GET";
    const allowed = route?.methods.includes(method) ?? false;
    if (route?.access === "open" && allowed) return route.serve({ req, res, target, next });
    if (route?.access === "guarded" && route.upstreamPath) req.url = `${route.upstreamPath}${target.query ? `?${target.query}` : ""}`;
    if (method === "OPTIONS" && route?.access === "guarded" && route.preflight) {
      // A browser's CORS preflight carries no token: the Host/Origin check, then fastmcp's answer.
      const refusal = checkHostAndOrigin(req, config.security);
      return refusal ? refuse(res, refusal) : next();
    }
    const verdict = route?.access === "guarded" && route.guard ? await route.guard(req) : guard.check(req, route?.access === "guarded" ? route.tokens : undefined);
    if ("refusal" in verdict) return refuse(res, verdict.refusal);
    if (!route) return refuse(res, { status: 404, message: `Nothing is served at ${target.path}.` });
    if (!allowed || route.access !== "guarded") return refuse(res, { status: 405, message: `${method} is not allowed on ${target.path}.`, headers: { allow: route.methods.join(", ") } });
    return route.serve({ req, res, target, next, caller: verdict.caller });
  };
}

function serverRoutes(parts: FrontDoorParts, guard: Guard, refuse: Refuse): RouteTable {
  const { config, metrics, readiness, state } = parts;
  const security = config.security;
  const routes = mcpRoutes(parts, refuse);
  // The connector door and its authorization server, when on: exact paths, so the 404 below still
  // answers every other /.well-known/ path (the static door's clients keep to their token).
  if (parts.connector) routes.merge(connectorRoutes(parts.connector, parts, refuse));
  return routes
    .add("/health", { methods: ["GET", "HEAD"], access: "open", serve: ({ res }) => health(res) })
    .add("/ready", {
      methods: ["GET", "HEAD"],
      access: "open",
      serve: ({ req, res }) => (state.draining ? sendJson(res, 503, { status: "draining" }) : readiness.answer(res, guard.identify(req, clientAddress(req, security.clientIpHeader)) !== undefined)),
    })
    .add("/.well-known/", {
      methods: ["GET", "HEAD"],
      access: "open",
      // Public by nature (RFC 8615), and no OAuth is offered here: a 404, not a 401, tells clients
      // that probe for OAuth metadata (mcp-remote, the SDK's) to use the static token they were given.
      serve: ({ res, target }) => sendJson(res, 404, { error: `Nothing is served at ${target.path}: this server takes a static bearer token.` }),
    })
    .add("/metrics", {
      methods: ["GET", "HEAD"],
      access: "guarded",
      tokens: security.metricsToken ? [security.metricsToken] : undefined,
      serve: async ({ req, res }) => {
        res.writeHead(200, { "content-type": metrics.registry.contentType });
        res.end(req.method === "HEAD" ? undefined : await metrics.registry.metrics());
      },
    });
}
