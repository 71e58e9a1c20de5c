import type { Config } from "./config.js";
import { ModelCatalog } from "./llm/catalog.js";
import { ConversationStore } from "./llm/conversations.js";
import { LlmGateway } from "./llm/gateway.js";
import { createHttpClient, type HttpClient } from "./llm/http.js";
import { ConcurrencyLimiter } from "./llm/limiter.js";
import { OllamaProvider } from "./llm/ollama.js";
import { OpenAiProvider } from "./llm/openai.js";
import { ModelRouter } from "./llm/router.js";
import { InFlight, StreamCounter } from "./lifecycle.js";
import type { Logger } from "./logger.js";
import { Metrics } from "./metrics.js";
import { registerSecrets } from "./secrets.js";

/** Everything the tools and HTTP routes share, built once from the configuration. */
export type AppContext = {
  config: Config;
  logger: Logger;
  ollama: OllamaProvider;
  router: ModelRouter;
  gateway: LlmGateway;
  limiters: Record<"ollama" | "openai", ConcurrencyLimiter>;
  catalog: ModelCatalog;
  conversations: ConversationStore;
  http: HttpClient;
  inFlight: InFlight;
  /** Aborted when a shutdown stops waiting for calls in flight: they end as cancelled. */
  stopping: AbortController;
  metrics: Metrics;
  sseStreams: StreamCounter;
  /** Open MCP sessions on every transport; set once the MCP server exists. */
  sessions: { count: () => number };
};

export function createAppContext(config: Config, logger: Logger): AppContext {
  registerSecrets([config.openai.apiKey, ...config.security.authTokens, config.security.metricsToken]);
  const http = createHttpClient({ connectTimeoutMs: config.timeouts.connectMs });
  const { firstTokenMs, idleMs, totalMs } = config.timeouts;
  const limits = { firstTokenMs, idleMs, totalMs };
  const pullLimits = { firstTokenMs, idleMs, totalMs: config.timeouts.pullMs };
  const ollama = new OllamaProvider({ baseUrl: config.ollama.baseUrl, http, limits, pullLimits });
  const openai = new OpenAiProvider({ baseUrl: config.openai.baseUrl, apiKey: config.openai.apiKey, http, limits });
  const router = new ModelRouter({ ollama, openai });
  const { queueMax, queueMaxPerOwner, queueTimeoutMs } = config.concurrency;
  const limiters = {
    ollama: new ConcurrencyLimiter("ollama", { concurrency: config.concurrency.ollama, queueMax, queueMaxPerOwner, queueTimeoutMs }),
    openai: new ConcurrencyLimiter("openai", { concurrency: config.concurrency.openai, queueMax, queueMaxPerOwner, queueTimeoutMs }),
  };
  const sseStreams = new StreamCounter();
  const sessions = { count: () => 0 };
  const catalog = new ModelCatalog(config.localOnly ? [ollama] : [ollama, openai], config.modelsCacheTtlMs);
  const configuredModels = new Set([config.defaultModel, ...config.fallbackModels, ...config.warmModels]);
  const metrics = new Metrics({
    openSessions: () => ({ sse: sseStreams.open, "streamable-http": Math.max(0, sessions.count() - sseStreams.open) }),
    queue: () => ({
      ollama: { waiting: limiters.ollama.waiting, running: limiters.ollama.running },
      openai: { waiting: limiters.openai.waiting, running: limiters.openai.running },
    }),
  }, (name) => configuredModels.has(name) || catalog.knows(name));
  const gateway = new LlmGateway(router, limiters, {
    policy: { maxRetries: config.retries.max, baseDelayMs: config.retries.baseDelayMs, maxDelayMs: 30_000 },
    fallbackModels: config.fallbackModels,
    localOnly: config.localOnly,
    caps: config.caps,
    observer: {
      result: (provider, result) => metrics.providerCall(provider, result),
      error: (provider, error) => metrics.providerError(provider, error.kind),
      retry: (target, error, delayMs) => {
        metrics.retry(target.provider.name);
        logger.warn({ provider: target.provider.name, model: target.model, errorKind: error.kind, status: error.details.status, delayMs }, "retrying model call");
      },
    },
  });
  const conversations = new ConversationStore(config.conversations);
  return { config, logger, ollama, router, gateway, limiters, catalog, conversations, http, inFlight: new InFlight(), stopping: new AbortController(), metrics, sseStreams, sessions };
}
