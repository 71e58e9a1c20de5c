import type { LlmError } from "../errors.js";

export type RetryPolicy = { maxRetries: number; baseDelayMs: number; maxDelayMs: number };

export type RetryDecision = { retry: true; delayMs: number } | { retry: false };

const RETRYABLE = new Set(["unreachable", "interrupted", "rate_limited", "provider_error"]);

/**
 * The only place that decides whether a failed provider call is tried again: connection failures,
 * a broken stream, 429 and 5xx are; every other 4xx, timeouts and cancellations are not. The delay
 * grows exponentially with jitter (half fixed, half random), or is the provider's Retry-After.
 */
export function decideRetry(error: LlmError, attempt: number, policy: RetryPolicy, random: () => number = Math.random): RetryDecision {
  if (attempt >= policy.maxRetries || !RETRYABLE.has(error.kind)) return { retry: false };
  const status = error.details.status;
  if (error.kind === "provider_error" && status !== undefined && status < 500) return { retry: false };
  const retryAfter = error.details.retryAfterMs;
  if (retryAfter !== undefined) {
    return retryAfter <= policy.maxDelayMs ? { retry: true, delayMs: retryAfter } : { retry: false };
  }
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return { retry: true, delayMs: Math.round(ceiling / 2 + (random() * ceiling) / 2) };
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
