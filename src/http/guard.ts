import type { IncomingMessage } from "node:http";
import { type Caller, tokenCallerId } from "../caller.js";
import type { Config } from "../config.js";
import { RateLimiter } from "./rateLimit.js";
import { checkHostAndOrigin, matchingToken, presentedTokens, type Refusal, unauthorized } from "./security.js";

const ADDRESS = /^[0-9A-Fa-f.:]{2,64}$/;

/**
 * The client's address: the socket's peer, or the value of CLIENT_IP_HEADER when set. Only set it
 * where the platform's proxy writes that header on every request (Fly-Client-IP on Fly.io),
 * otherwise a client could choose its own address.
 */
export function clientAddress(req: IncomingMessage, header: string | undefined): string {
  const peer = req.socket.remoteAddress ?? "unknown";
  if (!header) return peer;
  const value = req.headers[header];
  const first = (Array.isArray(value) ? value[0] : value)?.split(",")[0]?.trim();
  return first && ADDRESS.test(first) ? first : peer;
}

export type Verdict = { caller: Caller } | { refusal: Refusal };

/**
 * The checks every request passes unless its route is open, in order: Host/Origin (403),
 * too many failed logins from its address (429), the token (401; each wrong token counted against
 * the address), and the request rate of the caller (429: per token, or per address without one).
 */
export class Guard {
  private readonly requests: RateLimiter;
  private readonly failures: RateLimiter;

  constructor(private readonly security: Config["security"]) {
    this.requests = new RateLimiter(security.rateLimitPerMinute);
    this.failures = new RateLimiter(security.authFailuresPerMinute);
  }

  /** `apiKey`: the route also takes the token as `x-api-key` (Anthropic's header), each presented token checked. */
  check(req: IncomingMessage, tokens = this.security.authTokens, apiKey = false): Verdict {
    const origin = checkHostAndOrigin(req, this.security);
    if (origin) return { refusal: origin };
    const address = clientAddress(req, this.security.clientIpHeader);
    const lockedMs = this.failures.peek(address);
    if (lockedMs > 0)
      return { refusal: tooMany(`Too many failed logins from this address (AUTH_FAILURES_PER_MINUTE = ${this.security.authFailuresPerMinute}).`, lockedMs) };
    const caller = this.identify(req, address, tokens, apiKey);
    if (!caller) {
      // Only a token that was presented and is wrong is a guess (each one counts); a request without
      // one (a client's OAuth discovery, a browser) is refused without counting against the address.
      const presented = presentedTokens(req, apiKey);
      for (const _ of presented) this.failures.take(address);
      return { refusal: unauthorized(presented[0], apiKey) };
    }
    const waitMs = this.requests.take(caller.id === "open" ? `address:${address}` : caller.id);
    if (waitMs > 0)
      return { refusal: tooMany(`Too many requests: the limit is ${this.security.rateLimitPerMinute} a minute (RATE_LIMIT_PER_MINUTE).`, waitMs) };
    return { caller };
  }

  /** The caller a request's token names, without counting anything; `open` when no token is configured. */
  identify(req: IncomingMessage, address: string, tokens = this.security.authTokens, apiKey = false): Caller | undefined {
    if (tokens.length === 0) return { id: "open", address };
    for (const presented of presentedTokens(req, apiKey)) {
      const token = matchingToken(presented, tokens);
      if (token !== undefined) return { id: tokenCallerId(token), address };
    }
    return undefined;
  }
}

function tooMany(message: string, waitMs: number): Refusal {
  return { status: 429, message, headers: { "retry-after": String(Math.ceil(waitMs / 1000)) } };
}
