import { LlmError } from "../llm/errors.js";
import type { ModelRouter } from "../llm/gateway/router.js";

/** The Ollama model a name refers to; a cloud model name is refused with a pointer (only Ollama describes and pulls). */
export function ollamaModelName(router: ModelRouter, name: string, tool: string): string {
  const target = router.resolve(name);
  if (target.provider.name !== "ollama") {
    throw new LlmError("bad_request", `${tool} works with Ollama models only; '${name}' is a ${target.provider.name} model.`, {
      provider: target.provider.name,
      model: target.model,
    });
  }
  return target.model;
}
