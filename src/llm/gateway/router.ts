import { LlmError } from "../errors.js";
import type { LlmProvider, ProviderName } from "../types.js";

export type ResolvedModel = { provider: LlmProvider; model: string; qualifiedName: string };

const PREFIXED = /^(ollama|openai)\/(.*)$/;

/**
 * Picks the provider for a model name. `openai/gpt-4o-mini` goes to OpenAI; a bare name such as
 * `qwen3:4b` or `hf.co/user/repo:Q4_K_M` goes to Ollama, whole: its `name:tag` is never split.
 */
export class ModelRouter {
  constructor(readonly providers: Record<ProviderName, LlmProvider>) {}

  resolve(name: string): ResolvedModel {
    const trimmed = name.trim();
    const match = PREFIXED.exec(trimmed);
    const providerName: ProviderName = (match?.[1] as ProviderName | undefined) ?? "ollama";
    const model = match?.[2] ?? trimmed;
    if (model === "") {
      throw new LlmError("bad_request", `'${name}' names no model: use e.g. qwen3:4b or openai/gpt-4o-mini.`, { provider: providerName });
    }
    return { provider: this.providers[providerName], model, qualifiedName: match ? trimmed : model };
  }
}
