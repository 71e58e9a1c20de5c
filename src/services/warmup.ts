import { LlmError } from "../llm/errors.js";
import type { ModelRouter } from "../llm/gateway/router.js";
import type { OllamaProvider } from "../llm/providers/ollama.js";
import type { Logger } from "../logger.js";

/**
 * Loads WARM_MODELS into Ollama one after another, in the background, so the first real call does
 * not pay the model load. Failures are logged, never fatal: the server serves meanwhile.
 */
export async function warmModels(models: string[], deps: { router: ModelRouter; ollama: OllamaProvider; logger: Logger }): Promise<void> {
  for (const name of models) {
    const target = deps.router.resolve(name);
    if (target.provider.name !== "ollama") {
      deps.logger.warn({ model: name }, "WARM_MODELS lists a cloud model; only Ollama models are warmed");
      continue;
    }
    const started = performance.now();
    try {
      await deps.ollama.warm(target.model, "30m");
      deps.logger.info({ model: target.model, latencyMs: Math.round(performance.now() - started) }, "model warmed");
    } catch (error) {
      deps.logger.warn({ model: target.model, reason: error instanceof LlmError ? error.message : String(error) }, "model warm-up failed");
    }
  }
}
