import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApiSurface } from "../api/index.js";
import type { Connector } from "../connector/connector.js";
import type { Metrics } from "../metrics.js";
import { addApiRoutes } from "./apiRoutes.js";
import { connectorRoutes } from "./connectorRoutes.js";
import { clientAddress, Guard } from "./guard.js";
import { type McpRouteParts, mcpRoutes } from "./mcpRoutes.js";
import { health, type ReadinessProbe } from "./probes.js";
import { sendJson } from "./respond.js";
import type { Refuse, RouteTable } from "./routes.js";

import { checkHostAndOrigin } from "./security.js";
import { canonicalTarget } from "./target.js";

/** `connector`: the OAuth door (/connector/*), when on; `api`: the OpenAI- and Anthropic-compatible endpoints (/v1/*). */
export type FrontDoorParts = McpRouteParts & { metrics: Metrics; readiness: ReadinessProbe; connector?: Connector; api?: ApiSurface };

export type FrontDoor = (req: IncomingMessage, res: ServerResponse, next: () => void) => Promise<void>;

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
  const refuse: Refuse = (res, refusal, body) => {
    metrics.refused(refusal.status);
    if (!res.headersSent) sendJson(res, refusal.status, body ?? { error: refusal.message }, refusal.headers);
  };
  const routes = serverRoutes(parts, guard, refuse);

  return async (req, res, next) => {
    const target = canonicalTarget(req.url);
    if (!target)
      return refuse(res, {
        status: 400,
        message: "The request path is not in canonical form (no dot segments, percent-encoding, fragments, backslashes or empty segments).",
      });
    const route = routes.find(target.path);
    const method = req.method ?? "GET";
    const allowed = route?.methods.includes(method) ?? false;
    if (route?.access === "open" && allowed) return route.serve({ req, res, target, next });
    const guarded = route?.access === "guarded" ? route : undefined;
    if (guarded?.upstreamPath) req.url = `${guarded.upstreamPath}${target.query ? `?${target.query}` : ""}`;
    const shape = guarded?.refusalBody;
    const refuseHere: Refuse = shape ? (res, refusal) => refuse(res, refusal, shape(req, refusal)) : refuse;
    if (method === "OPTIONS" && guarded?.preflight) {
      // A browser's CORS preflight carries no token: the Host/Origin check, then fastmcp's answer.
      const refusal = checkHostAndOrigin(req, config.security);
      return refusal ? refuseHere(res, refusal) : next();
    }
    const verdict = guarded?.guard ? await guarded.guard(req) : guard.check(req, guarded?.tokens, guarded?.apiKey);
    if ("refusal" in verdict) return refuseHere(res, verdict.refusal);
    if (!route) return refuse(res, { status: 404, message: `Nothing is served at ${target.path}.` });
    if (!allowed || !guarded)
      return refuseHere(res, { status: 405, message: `${method} is not allowed on ${target.path}.`, headers: { allow: route.methods.join(", ") } });
    return guarded.serve({ req, res, target, next, caller: verdict.caller });
  };
}

function serverRoutes(parts: FrontDoorParts, guard: Guard, refuse: Refuse): RouteTable {
  const { config, metrics, readiness, state } = parts;
  const security = config.security;
  const table = mcpRoutes(parts, refuse);
  // The connector door and its authorization server, when on: exact paths, so the 404 below still
  // answers every other /.well-known/ path (the static door's clients keep to their token).
  if (parts.connector) table.merge(connectorRoutes(parts.connector, parts, refuse));
  if (parts.api) addApiRoutes(table, { config, state, api: parts.api }, refuse);
  return table
    .add("/health", { methods: ["GET", "HEAD"], access: "open", serve: ({ res }) => health(res) })
    .add("/ready", {
      methods: ["GET", "HEAD"],
      access: "open",
      serve: ({ req, res }) =>
        state.draining
          ? sendJson(res, 503, { status: "draining" })
          : readiness.answer(res, guard.identify(req, clientAddress(req, security.clientIpHeader)) !== undefined),
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
