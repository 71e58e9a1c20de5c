import type { IncomingMessage } from "node:http";
import type { Connector } from "../connector/connector.js";
import { ConsentPage } from "../connector/consent.js";
import { ConnectorGuard } from "../connector/guard.js";
import { OWNER_PATH, serveOwner } from "../connector/owner.js";
import { OwnerPassword } from "../connector/password.js";
import { StateError } from "../state/db.js";
import { limitBody } from "./bodyLimit.js";
import { clientAddress } from "./guard.js";
import { guardMcp, type McpRouteParts } from "./mcpRoutes.js";
import { RateLimiter } from "./rateLimit.js";
import { sendJson } from "./respond.js";
import { type Refuse, type Route, type RouteRequest, RouteTable } from "./routes.js";
import { checkHostAndOrigin, type Refusal } from "./security.js";

/** Body caps of the authorization server's endpoints and of the approval form. */
const BODY = { register: 16_384, token: 8_192, form: 8_192 };
const INTERACTION_UID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Where OAuth clients look for the authorization server's metadata, all under the door's path:
 * RFC 8414 and OpenID discovery for the issuer (…/connector), and the forms some connectors derive
 * from the door's URL itself. No root well-known path: those stay 404 for the static door's clients.
 */
const AS_METADATA = [
  "/.well-known/oauth-authorization-server/connector",
  "/.well-known/openid-configuration/connector",
  "/connector/.well-known/openid-configuration",
  "/connector/.well-known/oauth-authorization-server",
  "/.well-known/oauth-authorization-server/connector/mcp",
  "/.well-known/openid-configuration/connector/mcp",
  "/connector/mcp/.well-known/openid-configuration",
];
/** The protected resource's metadata: at the door's RFC 9728 path, and its parent for clients that drop the last segment. */
const RESOURCE_METADATA = ["/.well-known/oauth-protected-resource/connector/mcp", "/.well-known/oauth-protected-resource/connector"];

type OpenServe = (request: RouteRequest & { address: string }) => Promise<void>;

/**
 * The connector door (OAuth, on its own path) and its authorization server, in the route table:
 * the metadata, oidc-provider's endpoints and the owner's approval page are deliberately open, each
 * behind the Host/Origin check, a rate per address and a body cap (the owner's list of clients
 * answers loopback sockets only, with the owner password); /connector/mcp is guarded by
 * the connector's own guard (access tokens for this resource only) and served by fastmcp as /mcp.
 */
export function connectorRoutes(connector: Connector, parts: McpRouteParts, refuse: Refuse): RouteTable {
  const security = parts.config.security;
  const guard = new ConnectorGuard(connector, security);
  const password = new OwnerPassword(connector.settings.ownerPassword, security.authFailuresPerMinute);
  const consent = new ConsentPage(connector, password);
  const perAddress = new RateLimiter(security.rateLimitPerMinute);
  // Registrations and authorization requests are what a stranger can do without any secret, like
  // a failed login: the same rate per address (a connector registers once or twice per connection,
  // and a person approves one request at a time). Each authorization request keeps an interaction.
  const registrations = { limiter: new RateLimiter(security.authFailuresPerMinute), methods: ["POST"] };
  const authorizations = { limiter: new RateLimiter(security.authFailuresPerMinute), methods: ["GET", "POST"] };

  const open = (methods: string[], maxBody: number, serve: OpenServe, extra?: { limiter: RateLimiter; methods: string[] }): Route => ({
    methods,
    access: "open",
    serve: async (request) => {
      const { req, res } = request;
      const refusal = checkHostAndOrigin(req, security);
      if (refusal) return refuse(res, refusal);
      const address = clientAddress(req, security.clientIpHeader);
      const waitMs = Math.max(perAddress.take(address), extra?.methods.includes(req.method ?? "") ? extra.limiter.take(address) : 0);
      if (waitMs > 0)
        return refuse(res, {
          status: 429,
          message: "Too many requests from this address; try again shortly.",
          headers: { "retry-after": String(Math.ceil(waitMs / 1000)) },
        });
      if (req.method === "POST") {
        if (Number(req.headers["content-length"] ?? 0) > maxBody) return refuse(res, bodyTooLarge(maxBody));
        limitBody(req, maxBody, () => refuse(res, { ...bodyTooLarge(maxBody), headers: { connection: "close" } }));
      }
      try {
        await serve({ ...request, address });
      } catch (error) {
        if (!(error instanceof StateError)) throw error;
        refuse(res, { status: 503, message: `The connector is unavailable right now: ${error.message}`, headers: { "retry-after": "5" } });
      }
    },
  });
  // oidc-provider's endpoints (/connector/oauth/authorize, …/token, …/register, …/revoke, …/jwks), as sent.
  const endpoint: OpenServe = ({ req, res, target, address }) =>
    connector.handOver(req, res, address, `${target.path}${target.query ? `?${target.query}` : ""}`);
  const discovery: OpenServe = ({ req, res, address }) => connector.handOver(req, res, address, `${connector.urls.mountPath}/.well-known/openid-configuration`);
  const metadata = open(["GET", "HEAD"], 0, async ({ res }) => sendJson(res, 200, protectedResourceMetadata(connector)));

  const routes = new RouteTable()
    .add(`${connector.urls.mountPath}/oauth/register`, open(["POST", "OPTIONS"], BODY.register, endpoint, registrations))
    .add(`${connector.urls.mountPath}/oauth/authorize`, open(["GET", "POST", "OPTIONS"], BODY.token, endpoint, authorizations))
    .add(`${connector.urls.mountPath}/oauth/`, open(["GET", "POST", "OPTIONS"], BODY.token, endpoint))
    .add(
      connector.urls.approvePath,
      open(["GET", "POST"], BODY.form, (request) => approval(request, consent, connector, refuse)),
    )
    .add(
      OWNER_PATH,
      open(["GET", "POST"], BODY.form, ({ req, res }) => serveOwner(req, res, connector, password)),
    )
    .add("/connector/mcp", {
      methods: ["POST", "GET", "DELETE"],
      access: "guarded",
      guard: (req) => guard.check(req),
      preflight: true,
      upstreamPath: "/mcp",
      serve: (request) => guardMcp({ ...request, target: { path: "/mcp", query: request.target.query } }, parts, refuse),
    });
  for (const path of RESOURCE_METADATA) routes.add(path, metadata);
  for (const path of AS_METADATA) routes.add(path, open(["GET", "OPTIONS"], 0, discovery));
  return routes;
}

/** RFC 9728: what the door is and which authorization server issues its tokens. */
function protectedResourceMetadata(connector: Connector): Record<string, unknown> {
  return {
    resource: connector.urls.resource,
    authorization_servers: [connector.urls.issuer],
    bearer_methods_supported: ["header"],
    scopes_supported: ["mcp"],
    resource_name: "mcp-lab (connector door)",
  };
}

async function approval(
  { req, res, target, address }: RouteRequest & { address: string },
  consent: ConsentPage,
  connector: Connector,
  refuse: Refuse,
): Promise<void> {
  const uid = target.path.slice(connector.urls.approvePath.length);
  if (!INTERACTION_UID.test(uid)) return refuse(res, { status: 404, message: `Nothing is served at ${target.path}.` });
  if (req.method === "GET") return consent.show(req, res, uid, target.query, address);
  // A body cut off at the cap has been answered (413) already, and ends with the connection.
  const form = await readForm(req).catch(() => undefined);
  if (res.headersSent) return;
  if (!form) return refuse(res, { status: 415, message: "The approval form is sent as application/x-www-form-urlencoded." });
  await consent.submit(req, res, uid, target.query, form, address);
}

/** The body of an HTML form post (already capped by the route), or undefined for another content type. */
async function readForm(req: IncomingMessage): Promise<URLSearchParams | undefined> {
  if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers["content-type"] ?? "")) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

function bodyTooLarge(maxBytes: number): Refusal {
  return { status: 413, message: `The request body is larger than ${maxBytes} bytes.` };
}
