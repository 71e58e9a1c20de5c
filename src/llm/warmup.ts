import type { AppContext } from "../app.js";
import { LlmError } from "./errors.js";

/**
 * Loads WARM_MODELS into Ollama one after another, in the background, so the first real call does
 * not pay the model load. Failures are logged, never fatal: the server serves meanwhile.
 */
export async function warmModels(app: AppContext): Promise<void> {
  for (const name of app.config.warmModels) {
    const target = app.router.resolve(name);
    if (target.provider.name !== "ollama") {
      app.logger.warn({ model: name }, "WARM_MODELS lists a cloud model; only Ollama models are warmed");
      continue;
    }
    const started = performance.now();
    try {
      await app.ollama.warm(target.model, "30m");
      app.logger.info({ model: target.model, latencyMs: Math.round(performance.now() - started) }, "model warmed");
    } catch (error) {
      app.logger.warn({ model: target.model, reason: error instanceof LlmError ? error.message : String(error) }, "model warm-up failed");
    }
  }
}
