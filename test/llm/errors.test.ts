import { APIConnectionError, NotFoundError, RateLimitError } from "openai";
import { describe, expect, it } from "vitest";
import { networkCode, parseRetryAfter, toLlmError } from "../../src/llm/errors.js";

const context = { provider: "ollama" as const, baseUrl: "http://ollama:11434", model: "qwen3:4b" };

describe("toLlmError", () => {
  it("turns a 404 'not found' into a pull hint that keeps the tag", () => {
    const error = new NotFoundError(404, { message: 'model "qwen3:4b" not found, try pulling it first' }, undefined, new Headers());
    const mapped = toLlmError(error, context);
    expect(mapped.kind).toBe("model_not_found");
    expect(mapped.message).toContain("ollama pull qwen3:4b");
  });

  it("names the URL and the system error for a refused connection", () => {
    const cause = Object.assign(new TypeError("fetch failed"), { cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }) });
    const mapped = toLlmError(new APIConnectionError({ cause }), context);
    expect(mapped.kind).toBe("unreachable");
    expect(mapped.message).toContain("http://ollama:11434 (ECONNREFUSED)");
  });

  it("keeps Retry-After from a 429", () => {
    const error = new RateLimitError(429, { message: "slow down" }, undefined, new Headers({ "retry-after": "3" }));
    const mapped = toLlmError(error, context);
    expect(mapped.kind).toBe("rate_limited");
    expect(mapped.details.retryAfterMs).toBe(3000);
  });
});

describe("networkCode", () => {
  it("finds a code inside an AggregateError's errors", () => {
    const inner = Object.assign(new Error("x"), { code: "EHOSTUNREACH" });
    expect(networkCode({ cause: new AggregateError([new Error("y"), inner]) })).toBe("EHOSTUNREACH");
    expect(networkCode(new Error("plain"))).toBeUndefined();
  });
});

describe("parseRetryAfter", () => {
  it("reads seconds and HTTP dates", () => {
    expect(parseRetryAfter("2")).toBe(2000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});
