import { describe, expect, it } from "vitest";
import { LlmError } from "../../../src/llm/errors.js";
import { ModelRouter } from "../../../src/llm/gateway/router.js";
import { sameOllamaModel } from "../../../src/llm/providers/ollama.js";
import type { LlmProvider } from "../../../src/llm/types.js";

const fake = (name: "ollama" | "openai") => ({ name }) as LlmProvider;
const router = new ModelRouter({ ollama: fake("ollama"), openai: fake("openai") });

describe("ModelRouter", () => {
  it.each([
    ["qwen3:4b", "ollama", "qwen3:4b", "qwen3:4b"],
    ["qwen3", "ollama", "qwen3", "qwen3"],
    ["ollama/gemma3:12b", "ollama", "gemma3:12b", "ollama/gemma3:12b"],
    ["openai/gpt-4o-mini", "openai", "gpt-4o-mini", "openai/gpt-4o-mini"],
    ["hf.co/unsloth/Qwen3-4B-GGUF:Q4_K_M", "ollama", "hf.co/unsloth/Qwen3-4B-GGUF:Q4_K_M", "hf.co/unsloth/Qwen3-4B-GGUF:Q4_K_M"],
    ["openai/ft:gpt-4o-mini:org:custom:id", "openai", "ft:gpt-4o-mini:org:custom:id", "openai/ft:gpt-4o-mini:org:custom:id"],
  ])("%s goes to %s as %s", (name, provider, model, qualified) => {
    const resolved = router.resolve(name);
    expect(resolved.provider.name).toBe(provider);
    expect(resolved.model).toBe(model);
    expect(resolved.qualifiedName).toBe(qualified);
  });

  it("refuses a prefix with no model", () => {
    expect(() => router.resolve("openai/")).toThrow(LlmError);
  });
});

describe("sameOllamaModel", () => {
  it("treats a missing tag as :latest and compares the rest exactly", () => {
    expect(sameOllamaModel("qwen3", "qwen3:latest")).toBe(true);
    expect(sameOllamaModel("qwen3:4b", "qwen3:4b")).toBe(true);
    expect(sameOllamaModel("qwen3:4b", "qwen3:8b")).toBe(false);
    expect(sameOllamaModel("qwen3", "qwen3:4b")).toBe(false);
    expect(sameOllamaModel("hf.co/a/b", "hf.co/a/b:latest")).toBe(true);
  });
});
