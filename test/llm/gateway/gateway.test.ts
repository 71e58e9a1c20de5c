import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LlmError } from "../../../src/llm/errors.js";
import { LlmGateway } from "../../../src/llm/gateway/gateway.js";
import { ConcurrencyLimiter } from "../../../src/llm/gateway/limiter.js";
import { ModelRouter } from "../../../src/llm/gateway/router.js";
import type { ChatRequest, ChatResult, LlmProvider } from "../../../src/llm/types.js";

/**
 * The retry loop's waits on a fake clock: Retry-After is waited exactly, backoff grows, and a
 * cancel ends the wait. (test/e2e/failures.test.ts and test/scale/faults.test.ts check the same
 * against the stand-in with real time, as lower bounds only.)
 */

const answer: ChatResult = {
  text: "ok",
  thinking: "",
  model: "qwen3:4b",
  promptTokens: 1,
  completionTokens: 1,
  finishReason: "stop",
  timeToFirstTokenMs: 1,
  durationMs: 1,
};

/** A provider that fails with each of `failures` in turn, then answers; it records when each try started. */
function flakyProvider(failures: LlmError[]) {
  const start = Date.now();
  const triedAt: number[] = [];
  const provider = {
    name: "ollama",
    isLocal: true,
    chat: async (_request: ChatRequest) => {
      triedAt.push(Date.now() - start);
      const failure = failures.shift();
      if (failure) throw failure;
      return answer;
    },
  } as unknown as LlmProvider;
  return { provider, triedAt };
}

function gateway(provider: LlmProvider, maxRetries: number, baseDelayMs = 100) {
  const limiter = (name: "ollama" | "openai") => new ConcurrencyLimiter(name, { concurrency: 4, queueMax: 4, queueMaxPerOwner: 4, queueTimeoutMs: 60_000 });
  const router = new ModelRouter({ ollama: provider, openai: { name: "openai", isLocal: false } as LlmProvider });
  return new LlmGateway(
    router,
    { ollama: limiter("ollama"), openai: limiter("openai") },
    {
      policy: { maxRetries, baseDelayMs, maxDelayMs: 30_000 },
      fallbackModels: [],
      localOnly: false,
      caps: { maxOutputTokens: 100_000, maxNumCtx: 1_000_000, maxKeepAliveMs: 3_600_000 },
    },
  );
}

const gatewayChat = (g: LlmGateway, call: Parameters<LlmGateway["chat"]>[1]) => g.chat(g.resolve("qwen3:4b"), call);

const rateLimited = (retryAfterMs: number) =>
  new LlmError("rate_limited", "ollama is rate limiting requests (429: slow down)", { provider: "ollama", status: 429, retryAfterMs });
const busy = () => new LlmError("provider_error", "ollama failed (503: busy)", { provider: "ollama", status: 503 });

describe("LlmGateway retry loop, on a fake clock", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it("waits exactly the provider's Retry-After between tries, no less and no more", async () => {
    const { provider, triedAt } = flakyProvider([rateLimited(1_000), rateLimited(1_000)]);
    const result = gatewayChat(gateway(provider, 2), { messages: [{ role: "user", content: "hi" }] });
    await vi.advanceTimersByTimeAsync(999);
    expect(triedAt).toEqual([0]);
    await vi.advanceTimersByTimeAsync(1);
    expect(triedAt).toEqual([0, 1_000]);
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(result).resolves.toMatchObject({ text: "ok", retries: 2 });
    expect(triedAt).toEqual([0, 1_000, 2_000]);
  });

  it("backs off exponentially between tries of a failing provider, then gives up with its message", async () => {
    vi.spyOn(Math, "random").mockReturnValue(1);
    const { provider, triedAt } = flakyProvider([busy(), busy(), busy(), busy()]);
    const result = gatewayChat(gateway(provider, 3, 100), { messages: [{ role: "user", content: "hi" }] });
    const failed = expect(result).rejects.toThrow("ollama failed (503: busy)");
    await vi.advanceTimersByTimeAsync(10_000);
    await failed;
    // Ceilings of 100, 200 and 400 ms (random() = 1 takes the whole ceiling).
    expect(triedAt).toEqual([0, 100, 300, 700]);
  });

  it("ends a wait between tries at once when the caller cancels", async () => {
    const { provider, triedAt } = flakyProvider([rateLimited(20_000)]);
    const controller = new AbortController();
    const result = gatewayChat(gateway(provider, 2), { messages: [{ role: "user", content: "hi" }], signal: controller.signal });
    const failed = expect(result).rejects.toMatchObject({ kind: "cancelled", message: "The request was cancelled while waiting to retry." });
    await vi.advanceTimersByTimeAsync(500);
    controller.abort();
    await failed;
    expect(triedAt).toEqual([0]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
