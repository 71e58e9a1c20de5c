import { RateLimiter } from "../http/rateLimit.js";
import { matchingToken } from "../http/security.js";

/** Wrong passwords from all addresses together, per minute, as a multiple of the per-address limit. */
const OVERALL_FACTOR = 10;

export type PasswordVerdict = { ok: true } | { ok: false; wrong: true } | { ok: false; wrong: false; waitMs: number };

/**
 * The owner password, wherever it is asked: compared in constant time (hashes of equal length),
 * wrong ones counted per address (AUTH_FAILURES_PER_MINUTE) and overall (ten times that), and past
 * either limit refused without comparing, even when right, until the window has room again.
 */
export class OwnerPassword {
  private readonly perAddress: RateLimiter;
  private readonly overall: RateLimiter;

  constructor(
    private readonly password: string,
    failuresPerMinute: number,
    now: () => number = Date.now,
  ) {
    this.perAddress = new RateLimiter(failuresPerMinute, now);
    this.overall = new RateLimiter(failuresPerMinute * OVERALL_FACTOR, now);
  }

  check(address: string, presented: string | undefined): PasswordVerdict {
    const waitMs = Math.max(this.perAddress.peek(address), this.overall.peek("all"));
    if (waitMs > 0) return { ok: false, wrong: false, waitMs };
    if (presented !== undefined && matchingToken(presented, [this.password]) !== undefined) return { ok: true };
    this.perAddress.take(address);
    this.overall.take("all");
    return { ok: false, wrong: true };
  }
}
