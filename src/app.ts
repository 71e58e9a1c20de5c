import type { Config } from "./config.js";
import { ModelCatalog } from "./llm/catalog.js";
import { createHttpClient, type HttpClient } from "./llm/http.js";
import { OllamaProvider } from "./llm/ollama.js";
import { OpenAiProvider } from "./llm/openai.js";
import { ModelRouter } from "./llm/router.js";
import { InFlight } from "./lifecycle.js";
import type { Logger } from "./logger.js";

/** Everything the tools and HTTP routes share, built once from the configuration. */
export type AppContext = {
  config: Config;
  logger: Logger;
  router: ModelRouter;
  catalog: ModelCatalog;
  http: HttpClient;
  inFlight: InFlight;
};

export function createAppContext(config: Config, logger: Logger): AppContext {
  const http = createHttpClient({ connectTimeoutMs: config.timeouts.connectMs });
  const totalTimeoutMs = config.timeouts.totalMs;
  const ollama = new OllamaProvider({ baseUrl: config.ollama.baseUrl, http, totalTimeoutMs });
  const openai = new OpenAiProvider({ baseUrl: config.openai.baseUrl, apiKey: config.openai.apiKey, http, totalTimeoutMs });
  const router = new ModelRouter({ ollama, openai });
  const catalog = new ModelCatalog([ollama, openai], config.modelsCacheTtlMs);
  return { config, logger, router, catalog, http, inFlight: new InFlight() };
}
