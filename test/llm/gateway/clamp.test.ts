import { describe, expect, it } from "vitest";
import { clampCall, keepAliveMs } from "../../../src/llm/gateway/clamp.js";

const caps = { maxOutputTokens: 16_384, maxNumCtx: 32_768, maxKeepAliveMs: 1_800_000 };

describe("clampCall", () => {
  it("lowers num_ctx, max_tokens and keep_alive to the server's limits and says so", () => {
    const { call, notes } = clampCall({ numCtx: 1_048_576, maxTokens: 131_072, keepAlive: "99999999h" }, caps, undefined);
    expect(call).toEqual({ numCtx: 32_768, maxTokens: 16_384, keepAlive: "1800s" });
    expect(notes).toEqual([
      "max_tokens 131072 lowered to 16384 (LLM_MAX_OUTPUT_TOKENS)",
      "num_ctx 1048576 lowered to 32768 (OLLAMA_MAX_NUM_CTX)",
      'keep_alive "99999999h" lowered to 1800s (OLLAMA_MAX_KEEP_ALIVE_MS)',
    ]);
  });

  it("holds num_ctx to the model's own context length where it is known", () => {
    expect(clampCall({ numCtx: 30_000 }, caps, 8_192).call.numCtx).toBe(8_192);
    expect(clampCall({ numCtx: 30_000 }, caps, undefined).call.numCtx).toBe(30_000);
  });

  it("treats a negative keep_alive as forever, and leaves allowed values alone", () => {
    expect(clampCall({ keepAlive: -1 }, caps, undefined).call.keepAlive).toBe("1800s");
    expect(clampCall({ keepAlive: "-1m" }, caps, undefined).call.keepAlive).toBe("1800s");
    expect(clampCall({ keepAlive: "10m" }, caps, undefined)).toEqual({ call: { keepAlive: "10m" }, notes: [] });
    expect(clampCall({ keepAlive: 0 }, caps, undefined).notes).toEqual([]);
    expect(keepAliveMs("1.5h")).toBe(5_400_000);
    expect(keepAliveMs(30)).toBe(30_000);
  });
});
