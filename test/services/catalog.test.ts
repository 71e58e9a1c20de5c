import { describe, expect, it, vi } from "vitest";
import { LlmError } from "../../src/llm/errors.js";
import type { LlmProvider, ModelSummary } from "../../src/llm/types.js";
import { ModelCatalog } from "../../src/services/catalog.js";

/** The model listing's cache, on an injected clock. */
describe("ModelCatalog", () => {
  const models: ModelSummary[] = [{ name: "qwen3:4b", provider: "ollama" }];

  it("asks a provider at most once per TTL", async () => {
    let now = 0;
    const listModels = vi.fn(async () => models);
    const catalog = new ModelCatalog([{ name: "ollama", listModels } as unknown as LlmProvider], 30_000, () => now);
    await catalog.list();
    now = 29_999;
    await catalog.list("ollama");
    expect(listModels).toHaveBeenCalledTimes(1);
    now = 30_000;
    await catalog.list();
    expect(listModels).toHaveBeenCalledTimes(2);
    expect(catalog.knows("qwen3:4b")).toBe(true);
  });

  it("does not keep a failed listing: the next call asks again", async () => {
    const listModels = vi
      .fn()
      .mockRejectedValueOnce(new LlmError("unreachable", "Could not reach ollama", { provider: "ollama" }))
      .mockResolvedValue(models);
    const catalog = new ModelCatalog([{ name: "ollama", listModels } as unknown as LlmProvider], 30_000, () => 0);
    expect(await catalog.list()).toEqual([{ provider: "ollama", error: "Could not reach ollama" }]);
    expect(await catalog.list()).toEqual([{ provider: "ollama", models }]);
    expect(listModels).toHaveBeenCalledTimes(2);
  });
});
