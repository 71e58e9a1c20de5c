import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { isLoopbackHost, type Config } from "../config.js";

/** Railway's deploy-time health checks arrive with this Host. */
const RAILWAY_HEALTHCHECK_HOST = "healthcheck.railway.app";

export type Refusal = { status: number; message: string; headers?: Record<string, string> };

function hostnameOf(hostHeader: string): string {
  const host = hostHeader.trim().toLowerCase();
  if (host.startsWith("[")) return host.slice(0, host.indexOf("]") + 1);
  const colon = host.lastIndexOf(":");
  return colon === -1 || host.indexOf(":") !== colon ? host : host.slice(0, colon);
}

function allowedHostname(hostname: string, allowedHosts: string[]): boolean {
  if (isLoopbackHost(hostname) || hostname === RAILWAY_HEALTHCHECK_HOST) return true;
  return allowedHosts.some((allowed) => allowed === "*" || allowed === hostname || (allowed.startsWith("*.") && hostname.endsWith(allowed.slice(1))));
}

/**
 * DNS-rebinding protection as the MCP spec asks: the Host must be a loopback name or one listed in
 * ALLOWED_HOSTS, and a browser's Origin, when sent, must be on such a host or in ALLOWED_ORIGINS.
 */
export function checkHostAndOrigin(req: IncomingMessage, security: Config["security"]): Refusal | undefined {
  const host = req.headers.host ?? "";
  if (!allowedHostname(hostnameOf(host), security.allowedHosts)) {
    return { status: 403, message: `Host '${host}' is not allowed. Add it to ALLOWED_HOSTS if this server is meant to answer to that name.` };
  }
  const origin = req.headers.origin;
  if (origin === undefined) return undefined;
  let originHost: string;
  try {
    originHost = new URL(origin).hostname.toLowerCase();
  } catch {
    return { status: 403, message: `Origin '${origin}' is not allowed.` };
  }
  const exact = security.allowedOrigins.includes(origin.toLowerCase().replace(/\/+$/, ""));
  if (!exact && !allowedHostname(originHost, security.allowedHosts)) {
    return { status: 403, message: `Origin '${origin}' is not allowed. Add it to ALLOWED_ORIGINS to let that web page connect.` };
  }
  return undefined;
}

const digest = (value: string) => createHash("sha256").update(value).digest();

/** Compares a presented token with every configured one in constant time (hashes make the lengths equal). */
export function tokenMatches(presented: string, tokens: string[]): boolean {
  const candidate = digest(presented);
  let matched = false;
  for (const token of tokens) matched = timingSafeEqual(candidate, digest(token)) || matched;
  return matched;
}

export function bearerToken(req: IncomingMessage): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "");
  return match?.[1];
}

/** 401 with WWW-Authenticate when `tokens` is non-empty and the request does not carry one of them. */
export function checkBearer(req: IncomingMessage, tokens: string[]): Refusal | undefined {
  if (tokens.length === 0) return undefined;
  const presented = bearerToken(req);
  if (presented && tokenMatches(presented, tokens)) return undefined;
  const error = presented ? ', error="invalid_token"' : "";
  return {
    status: 401,
    message: presented ? "The bearer token is not valid." : "This server needs `Authorization: Bearer <token>` (the value of MCP_AUTH_TOKEN).",
    headers: { "www-authenticate": `Bearer realm="mcp-lab"${error}` },
  };
}
