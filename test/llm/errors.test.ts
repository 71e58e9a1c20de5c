import { describe, expect, it } from "vitest";
import { errorBodyMessage, httpStatusError, networkCode, parseRetryAfter, toLlmError } from "../../src/llm/errors.js";

const context = { provider: "ollama" as const, baseUrl: "http://ollama:11434", model: "qwen3:4b" };

describe("httpStatusError", () => {
  it("turns a 404 'not found' into a pull hint that keeps the tag", () => {
    const mapped = httpStatusError(404, 'model "qwen3:4b" not found, try pulling it first', undefined, context);
    expect(mapped.kind).toBe("model_not_found");
    expect(mapped.message).toContain("ollama pull qwen3:4b");
  });

  it("keeps Retry-After from a 429 and sorts other statuses by what the user can do", () => {
    const limited = httpStatusError(429, "slow down", 3000, context);
    expect([limited.kind, limited.details.retryAfterMs]).toEqual(["rate_limited", 3000]);
    expect(httpStatusError(401, "bad key", undefined, { ...context, provider: "openai" }).message).toContain("Check OPENAI_API_KEY");
    expect(httpStatusError(400, "invalid temperature", undefined, context).kind).toBe("bad_request");
    expect(httpStatusError(404, "no such route", undefined, context).kind).toBe("bad_request");
    expect(httpStatusError(503, "", undefined, context).message).toBe("ollama failed (503: no details).");
  });
});

describe("errorBodyMessage", () => {
  it("reads Ollama's and OpenAI's error bodies, and plain text", () => {
    expect(errorBodyMessage('{"error":"model runner crashed"}')).toBe("model runner crashed");
    expect(errorBodyMessage('{"error":{"message":"quota exhausted","type":"insufficient_quota"}}')).toBe("quota exhausted");
    expect(errorBodyMessage("<html>bad gateway</html>\n")).toBe("<html>bad gateway</html>");
    expect(errorBodyMessage("x".repeat(1000))).toHaveLength(300);
  });
});

describe("toLlmError", () => {
  it("names the URL and the system error for a refused connection", () => {
    const error = Object.assign(new Error("connect ECONNREFUSED 10.0.0.2:11434"), { code: "ECONNREFUSED" });
    const mapped = toLlmError(error, context);
    expect(mapped.kind).toBe("unreachable");
    expect(mapped.message).toContain("http://ollama:11434 (ECONNREFUSED)");
  });

  it("tells a cancel from a timeout", () => {
    expect(toLlmError(new DOMException("aborted", "AbortError"), context).kind).toBe("cancelled");
    expect(toLlmError(new DOMException("timed out", "TimeoutError"), context).kind).toBe("timeout");
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
