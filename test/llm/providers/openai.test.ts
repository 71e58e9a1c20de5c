import * as sdk from "openai";
import { describe, expect, it } from "vitest";
import { fromSdkError } from "../../../src/llm/providers/openai.js";

const context = { provider: "openai" as const, baseUrl: "https://api.example.com/v1", model: "gpt-4o-mini" };

describe("fromSdkError", () => {
  it("maps the SDK's status errors, keeping the provider's message and Retry-After", () => {
    const limited = fromSdkError(sdk, new sdk.RateLimitError(429, { message: "quota exhausted" }, undefined, new Headers({ "retry-after": "3" })), context);
    expect([limited.kind, limited.details.retryAfterMs]).toEqual(["rate_limited", 3000]);
    expect(limited.message).toContain("429: quota exhausted");
    const missing = fromSdkError(
      sdk,
      new sdk.NotFoundError(404, { message: "The model 'gpt-5x' does not exist or was not found" }, undefined, new Headers()),
      context,
    );
    expect(missing.kind).toBe("model_not_found");
  });

  it("names the system error when the SDK could not connect, and tells abort from timeout", () => {
    const cause = Object.assign(new TypeError("fetch failed"), { cause: Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" }) });
    const unreachable = fromSdkError(sdk, new sdk.APIConnectionError({ cause }), context);
    expect(unreachable.kind).toBe("unreachable");
    expect(unreachable.message).toContain("https://api.example.com/v1 (ENOTFOUND)");
    expect(fromSdkError(sdk, new sdk.APIUserAbortError(), context).kind).toBe("cancelled");
    expect(fromSdkError(sdk, new sdk.APIConnectionTimeoutError(), context).kind).toBe("timeout");
  });
});
