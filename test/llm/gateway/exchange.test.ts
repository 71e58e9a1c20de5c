import { describe, expect, it } from "vitest";
import { LlmError } from "../../../src/llm/errors.js";
import { LlmGateway } from "../../../src/llm/gateway/gateway.js";
import { ConcurrencyLimiter } from "../../../src/llm/gateway/limiter.js";
import { ModelRouter } from "../../../src/llm/gateway/router.js";
import type { LlmProvider } from "../../../src/llm/types.js";

const provider = (name: "ollama" | "openai") => ({ name, isLocal: name === "ollama" }) as LlmProvider;
const limiter = (name: "ollama" | "openai") => new ConcurrencyLimiter(name, { concurrency: 1, queueMax: 4, queueMaxPerOwner: 4, queueTimeoutMs: 60_000 });

function gateway(fallbackModels: string[] = ["openai/gpt-4o-mini"]) {
  const router = new ModelRouter({ ollama: provider("ollama"), openai: provider("openai") });
  const gw = new LlmGateway(
    router,
    { ollama: limiter("ollama"), openai: limiter("openai") },
    {
      policy: { maxRetries: 2, baseDelayMs: 0, maxDelayMs: 0 },
      fallbackModels,
      localOnly: false,
      caps: { maxOutputTokens: 100, maxNumCtx: 100, maxKeepAliveMs: 100 },
    },
  );
  return { gw, primary: gw.resolve("qwen3:4b") };
}

const broken = () => new LlmError("interrupted", "the stream broke", { provider: "ollama" });

describe("LlmGateway.exchange: one loop for any kind of call", () => {
  it("retries, then asks each fallback, and says who answered after how many tries", async () => {
    const { gw, primary } = gateway();
    const tried: string[] = [];
    const result = await gw.exchange(primary, {}, async (target) => {
      tried.push(target.qualifiedName);
      if (target.provider.name === "ollama") throw broken();
      return "answer";
    });
    expect(tried).toEqual(["qwen3:4b", "qwen3:4b", "qwen3:4b", "openai/gpt-4o-mini"]);
    expect(result).toMatchObject({ value: "answer", retries: 0, fellBackFrom: [{ model: "qwen3:4b", reason: "the stream broke" }] });
    expect(result.target.qualifiedName).toBe("openai/gpt-4o-mini");
  });

  it("once the call is committed (part of the answer is out), a failure is final: no retry, no fallback", async () => {
    const { gw, primary } = gateway();
    let committed = false;
    let attempts = 0;
    const failure = await gw
      .exchange(primary, { committed: () => committed }, async () => {
        attempts++;
        committed = true;
        throw broken();
      })
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(LlmError);
    expect((failure as LlmError).message).toBe("the stream broke");
    expect(attempts).toBe(1);
  });

  it("runs every attempt inside one of the provider's fair slots, for its owner", async () => {
    const { gw, primary } = gateway([]);
    let release!: () => void;
    const first = gw.exchange(primary, { owner: "a" }, () => new Promise<string>((resolve) => (release = () => resolve("first"))));
    const order: string[] = [];
    const second = gw.exchange(primary, { owner: "b" }, async () => {
      order.push("second ran");
      return "second";
    });
    await Promise.resolve();
    expect(order).toEqual([]);
    release();
    expect((await first).value).toBe("first");
    expect((await second).value).toBe("second");
    expect(order).toEqual(["second ran"]);
  });
});
