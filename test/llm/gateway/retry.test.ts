import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LlmError, type LlmErrorKind } from "../../../src/llm/errors.js";
import { decideRetry, sleep } from "../../../src/llm/gateway/retry.js";

const policy = { maxRetries: 3, baseDelayMs: 100, maxDelayMs: 5_000 };
const error = (kind: LlmErrorKind, status?: number, retryAfterMs?: number) => new LlmError(kind, "x", { provider: "ollama", status, retryAfterMs });

describe("decideRetry", () => {
  it("retries connection failures, broken streams, 429 and 5xx", () => {
    for (const failure of [error("unreachable"), error("interrupted"), error("rate_limited", 429), error("provider_error", 503)]) {
      expect(decideRetry(failure, 0, policy).retry, failure.kind).toBe(true);
    }
  });

  it("does not retry other 4xx, timeouts, cancellations or missing models", () => {
    for (const failure of [
      error("bad_request", 400),
      error("auth", 401),
      error("timeout"),
      error("cancelled"),
      error("model_not_found", 404),
      error("provider_error", 418),
    ]) {
      expect(decideRetry(failure, 0, policy).retry, failure.kind).toBe(false);
    }
  });

  it("stops after maxRetries", () => {
    expect(decideRetry(error("unreachable"), 3, policy).retry).toBe(false);
  });

  it("backs off exponentially with jitter inside [ceiling/2, ceiling]", () => {
    const delays = [0, 1, 2].map((attempt) => [
      decideRetry(error("unreachable"), attempt, policy, () => 0),
      decideRetry(error("unreachable"), attempt, policy, () => 1),
    ]);
    expect(delays).toEqual([
      [
        { retry: true, delayMs: 50 },
        { retry: true, delayMs: 100 },
      ],
      [
        { retry: true, delayMs: 100 },
        { retry: true, delayMs: 200 },
      ],
      [
        { retry: true, delayMs: 200 },
        { retry: true, delayMs: 400 },
      ],
    ]);
  });

  it("honours Retry-After, and gives up when it asks for longer than the cap", () => {
    expect(decideRetry(error("rate_limited", 429, 2_000), 0, policy)).toEqual({ retry: true, delayMs: 2_000 });
    expect(decideRetry(error("rate_limited", 429, 60_000), 0, policy)).toEqual({ retry: false });
  });
});

describe("sleep (the wait between tries), on a fake clock", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("resolves after exactly the delay, not before", async () => {
    let done = false;
    const waiting = sleep(1_000).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await waiting;
    expect(done).toBe(true);
  });

  it("ends at once with the signal's reason when cancelled mid-wait, and leaves no timer", async () => {
    const controller = new AbortController();
    const waiting = sleep(30_000, controller.signal);
    await vi.advanceTimersByTimeAsync(100);
    controller.abort(new Error("client cancelled"));
    await expect(waiting).rejects.toThrow("client cancelled");
    expect(vi.getTimerCount()).toBe(0);
  });

  it("does not wait at all on a signal already aborted", async () => {
    const controller = new AbortController();
    controller.abort(new Error("gone"));
    await expect(sleep(30_000, controller.signal)).rejects.toThrow("gone");
    expect(vi.getTimerCount()).toBe(0);
  });
});
