import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { isIPv4, isIPv6 } from "node:net";
import type { Config } from "../config.js";

/** Railway's deploy-time health checks arrive with this Host. */
const RAILWAY_HEALTHCHECK_HOST = "healthcheck.railway.app";

export type Refusal = { status: number; message: string; headers?: Record<string, string> };

const HOST_AND_PORT = /^(\[[^\]]*\]|[^:[\]]+)(?::(\d{1,5}))?$/;
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/**
 * The host name in a Host header (or an Origin's host), lower-cased and without one trailing dot;
 * undefined unless it is exactly a DNS name, an IPv4 address or a bracketed IPv6 address, with an
 * optional port. `[::1].evil.com` and other mixtures are not host names.
 */
export function parseHostName(value: string): string | undefined {
  const match = HOST_AND_PORT.exec(value.trim().toLowerCase());
  if (!match) return undefined;
  const name = match[1]!;
  if (name.startsWith("[")) return isIPv6(name.slice(1, -1)) ? name : undefined;
  const bare = name.endsWith(".") ? name.slice(0, -1) : name;
  return isIPv4(bare) || DNS_NAME.test(bare) ? bare : undefined;
}

export function isLoopbackName(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

function allowedHostname(hostname: string, security: Config["security"]): boolean {
  if (hostname === RAILWAY_HEALTHCHECK_HOST || (security.loopbackNamesAllowed && isLoopbackName(hostname))) return true;
  return security.allowedHosts.some((allowed) => allowed === "*" || allowed === hostname || (allowed.startsWith("*.") && hostname.endsWith(allowed.slice(1))));
}

const shown = (value: string) => JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}…` : value);

/**
 * DNS-rebinding protection as the MCP spec asks: the Host must be one listed in ALLOWED_HOSTS (or a
 * loopback name, when the server itself listens on loopback only), and a browser's Origin, when
 * sent, must be on such a host or in ALLOWED_ORIGINS.
 */
export function checkHostAndOrigin(req: IncomingMessage, security: Config["security"]): Refusal | undefined {
  const host = req.headers.host ?? "";
  const hostname = parseHostName(host);
  if (!hostname || !allowedHostname(hostname, security)) {
    const hint =
      hostname && isLoopbackName(hostname)
        ? " This server listens beyond loopback, so loopback names are refused unless ALLOWED_HOSTS lists them (e.g. to reach it through a tunnel)."
        : "";
    return { status: 403, message: `Host ${shown(host)} is not allowed. Add it to ALLOWED_HOSTS if this server is meant to answer to that name.${hint}` };
  }
  const origin = req.headers.origin;
  if (origin === undefined) return undefined;
  let originHost: string | undefined;
  try {
    originHost = parseHostName(new URL(origin).host);
  } catch {
    originHost = undefined;
  }
  const exact = security.allowedOrigins.includes(origin.toLowerCase().replace(/\/+$/, ""));
  if (!exact && !(originHost && allowedHostname(originHost, security))) {
    return { status: 403, message: `Origin ${shown(origin)} is not allowed. Add it to ALLOWED_ORIGINS to let that web page connect.` };
  }
  return undefined;
}

const digest = (value: string) => createHash("sha256").update(value).digest();

/** The configured tokens' digests, computed once per list (the lists live as long as the configuration). */
const digests = new WeakMap<string[], Buffer[]>();

/** The configured token a presented one equals, compared in constant time (hashes make the lengths equal). */
export function matchingToken(presented: string, tokens: string[]): string | undefined {
  const candidate = digest(presented);
  let known = digests.get(tokens);
  if (!known) {
    known = tokens.map(digest);
    digests.set(tokens, known);
  }
  let matched: string | undefined;
  tokens.forEach((token, i) => {
    if (timingSafeEqual(candidate, known[i]!)) matched = token;
  });
  return matched;
}

export function bearerToken(req: IncomingMessage): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "");
  return match?.[1];
}

/** The tokens a request presents: its bearer token, and with `apiKey` also Anthropic's `x-api-key` header. */
export function presentedTokens(req: IncomingMessage, apiKey: boolean): string[] {
  const bearer = bearerToken(req);
  const header = apiKey ? req.headers["x-api-key"] : undefined;
  const key = (Array.isArray(header) ? header[0] : header)?.trim();
  return [bearer, key].filter((token, i, all): token is string => !!token && all.indexOf(token) === i);
}

/** 401 with WWW-Authenticate: the answer to a request without one of the tokens. */
export function unauthorized(presented: string | undefined, apiKey = false): Refusal {
  const needed = apiKey ? "`Authorization: Bearer <token>` or `x-api-key: <token>`" : "`Authorization: Bearer <token>`";
  return {
    status: 401,
    message: presented ? `The ${apiKey ? "token" : "bearer token"} is not valid.` : `This server needs ${needed} (the value of MCP_AUTH_TOKEN).`,
    headers: { "www-authenticate": `Bearer realm="mcp-lab"${presented ? ', error="invalid_token"' : ""}` },
  };
}
