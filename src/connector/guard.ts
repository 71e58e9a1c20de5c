import type { IncomingMessage } from "node:http";
import { connectorCallerId } from "../caller.js";
import type { Config } from "../config.js";
import { clientAddress, type Verdict } from "../http/guard.js";
import { RateLimiter } from "../http/rateLimit.js";
import { bearerToken, checkHostAndOrigin, type Refusal } from "../http/security.js";
import type { Connector, TokenCheck } from "./connector.js";

const REASONS: Record<Exclude<TokenCheck, { ok: true }>["reason"], string> = {
  unknown: "The access token is not valid here (unknown, revoked, or its grant was withdrawn).",
  expired: "The access token has expired: refresh it, or connect again.",
  "other-resource": "The access token was issued for another resource, not this connector.",
};

/**
 * The connector door's guard, in the order of the static one: Host/Origin (403), too many bad
 * tokens from the address (429), an access token this server issued for this resource (401, with
 * the protected-resource metadata's URL, RFC 9728), the caller's request rate (429). Static tokens
 * mean nothing here, as access tokens mean nothing on /mcp. Each client is its own caller.
 */
export class ConnectorGuard {
  private readonly failures: RateLimiter;
  private readonly requests: RateLimiter;

  constructor(
    private readonly connector: Connector,
    private readonly security: Config["security"],
  ) {
    this.failures = new RateLimiter(security.authFailuresPerMinute);
    this.requests = new RateLimiter(security.rateLimitPerMinute);
  }

  async check(req: IncomingMessage): Promise<Verdict> {
    const origin = checkHostAndOrigin(req, this.security);
    if (origin) return { refusal: origin };
    const address = clientAddress(req, this.security.clientIpHeader);
    const lockedMs = this.failures.peek(address);
    if (lockedMs > 0)
      return {
        refusal: tooMany(`Too many invalid access tokens from this address (AUTH_FAILURES_PER_MINUTE = ${this.security.authFailuresPerMinute}).`, lockedMs),
      };
    const presented = bearerToken(req);
    if (presented === undefined)
      return {
        refusal: this.challenge(
          "This door takes an OAuth access token from this server: connect it as a custom connector (claude.ai, Claude Desktop, ChatGPT).",
        ),
      };
    let result: TokenCheck;
    try {
      result = await this.connector.checkAccessToken(presented);
    } catch {
      return {
        refusal: {
          status: 503,
          message: "The connector cannot check access tokens right now (the state store did not answer). Try again in a moment.",
          headers: { "retry-after": "5" },
        },
      };
    }
    if (!result.ok) {
      // An expired token is what a client holds before it refreshes, not a guess.
      if (result.reason !== "expired") this.failures.take(address);
      this.connector.event("access_refused", { reason: result.reason, address });
      return { refusal: this.challenge(REASONS[result.reason], result.reason) };
    }
    const caller = { id: connectorCallerId(result.clientId), address };
    const waitMs = this.requests.take(caller.id);
    if (waitMs > 0)
      return { refusal: tooMany(`Too many requests: the limit is ${this.security.rateLimitPerMinute} a minute (RATE_LIMIT_PER_MINUTE).`, waitMs) };
    return { caller };
  }

  /** 401 pointing at the protected-resource metadata, so a connector knows where to get a token. */
  challenge(message: string, invalid?: string): Refusal {
    const error = invalid ? `error="invalid_token", error_description="${invalid === "expired" ? "expired" : "invalid"}", ` : "";
    return { status: 401, message, headers: { "www-authenticate": `Bearer ${error}resource_metadata="${this.connector.urls.resourceMetadata}"` } };
  }
}

function tooMany(message: string, waitMs: number): Refusal {
  return { status: 429, message, headers: { "retry-after": String(Math.ceil(waitMs / 1000)) } };
}
