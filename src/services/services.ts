import type { Config } from "../config.js";
import { Connector, type ConnectorDeps } from "../connector/connector.js";
import { SessionRegistry } from "../http/sessions.js";
import { InFlight, StreamCounter } from "../lifecycle.js";
import { LlmGateway } from "../llm/gateway/gateway.js";
import { ConcurrencyLimiter } from "../llm/gateway/limiter.js";
import { ModelRouter } from "../llm/gateway/router.js";
import { createHttpClient, type HttpClient } from "../llm/providers/httpClient.js";
import { OllamaProvider } from "../llm/providers/ollama.js";
import { OpenAiProvider } from "../llm/providers/openai.js";
import type { ProviderName } from "../llm/types.js";
import type { Logger } from "../logger.js";
import { Metrics } from "../metrics.js";
import { passwordOf, registerSecrets } from "../secrets.js";
import { ConversationStore } from "../state/conversations.js";
import { DocumentStore } from "../state/documents.js";
import { JobStore } from "../state/jobs.js";
import { StateStore } from "../state/store.js";
import { UsageRecorder } from "../state/usage.js";
import { ModelCatalog } from "./catalog.js";
import { Embedder } from "./docs/embedder.js";
import { KnowledgeBase } from "./docs/knowledge.js";
import { JobRunner } from "./jobs.js";

/**
 * The long-lived parts, built once from the configuration. Each surface (a tool, the front door,
 * the shutdown) is handed only the parts it uses.
 */
export type Services = {
  ollama: OllamaProvider;
  router: ModelRouter;
  gateway: LlmGateway;
  limiters: Record<ProviderName, ConcurrencyLimiter>;
  catalog: ModelCatalog;
  state: StateStore;
  conversations: ConversationStore;
  /** Tokens in/out per token, model and day, for the /v1/* endpoints (`pnpm usage`). */
  usage: UsageRecorder;
  /** Generations that outlive their call: handed off after ASYNC_AFTER_MS, collected with get_job. */
  jobs: JobRunner;
  /** The user's documents: search, read, add (document tools and resources). */
  knowledge: KnowledgeBase;
  providerHttp: HttpClient;
  metrics: Metrics;
  /** Tool calls running, so a shutdown can wait for them. */
  inFlight: InFlight;
  /** Aborted when a shutdown stops waiting for calls in flight: they end as cancelled. */
  stopping: AbortController;
  /** Open MCP sessions of the HTTP transports, and how many are legacy SSE streams. */
  sessions: SessionRegistry;
  sseStreams: StreamCounter;
  /** The connector door's authorization server, when CONNECTOR_OWNER_PASSWORD turns it on. */
  connector: Connector | undefined;
};

/** What a test may put in place of the real thing: where the connector fetches client metadata documents. */
export type Seams = { connectorFetch?: ConnectorDeps["fetch"] };

export function createServices(config: Config, logger: Logger, seams: Seams = {}): Services {
  registerSecrets([
    config.openai.apiKey,
    ...config.security.authTokens,
    config.security.metricsToken,
    // A password in a URL (a database, or a provider behind a proxy with basic auth) is a secret too.
    ...[config.state.databaseUrl, config.ollama.baseUrl, config.openai.baseUrl].map(passwordOf),
  ]);
  const providerHttp = createHttpClient({ connectTimeoutMs: config.timeouts.connectMs });
  const { firstTokenMs, idleMs, totalMs } = config.timeouts;
  const limits = { firstTokenMs, idleMs, totalMs };
  const ollama = new OllamaProvider({ baseUrl: config.ollama.baseUrl, http: providerHttp, limits, pullLimits: { ...limits, totalMs: config.timeouts.pullMs } });
  const openai = new OpenAiProvider({ baseUrl: config.openai.baseUrl, apiKey: config.openai.apiKey, http: providerHttp, limits });
  const router = new ModelRouter({ ollama, openai });
  const { queueMax, queueMaxPerOwner, queueTimeoutMs } = config.concurrency;
  const limiters = {
    ollama: new ConcurrencyLimiter("ollama", { concurrency: config.concurrency.ollama, queueMax, queueMaxPerOwner, queueTimeoutMs }),
    openai: new ConcurrencyLimiter("openai", { concurrency: config.concurrency.openai, queueMax, queueMaxPerOwner, queueTimeoutMs }),
  };
  const catalog = new ModelCatalog(config.localOnly ? [ollama] : [ollama, openai], config.modelsCacheTtlMs);
  const sessions = new SessionRegistry(config.security.sessionIdleTimeoutMs);
  const sseStreams = new StreamCounter();
  const metrics = createMetrics(config, { limiters, catalog, sessions, sseStreams });
  const gateway = createGateway(config, { router, limiters, metrics }, logger);
  const state = new StateStore({
    ...config.state,
    onPoolError: (error) => logger.warn({ err: error }, "the database connection failed; queries retry on their own"),
  });
  const conversations = new ConversationStore(state, config.conversations);
  const connector = config.connector && new Connector(config.connector, { state, logger, metrics, fetch: seams.connectorFetch });
  const usage = new UsageRecorder(state, {
    retentionDays: config.api.usageRetentionDays,
    onError: (error) => logger.warn({ err: error }, "usage could not be saved; it is kept to try again"),
  });
  const jobs = createJobs(config, state, metrics, logger);
  const knowledge = createKnowledge(config, { ollama, limiters, state });
  return {
    ollama,
    router,
    gateway,
    limiters,
    catalog,
    state,
    conversations,
    usage,
    jobs,
    knowledge,
    providerHttp,
    metrics,
    inFlight: new InFlight(),
    stopping: new AbortController(),
    sessions,
    sseStreams,
    connector,
  };
}

function createGateway(config: Config, parts: Pick<Services, "router" | "limiters" | "metrics">, logger: Logger): LlmGateway {
  const { metrics } = parts;
  return new LlmGateway(parts.router, parts.limiters, {
    policy: { maxRetries: config.retries.max, baseDelayMs: config.retries.baseDelayMs, maxDelayMs: 30_000 },
    fallbackModels: config.fallbackModels,
    localOnly: config.localOnly,
    caps: config.caps,
    observer: {
      result: (provider, result) => metrics.providerCall(provider, result),
      error: (provider, error) => metrics.providerError(provider, error.kind),
      retry: (target, error, delayMs) => {
        metrics.retry(target.provider.name);
        logger.warn(
          { provider: target.provider.name, model: target.model, errorKind: error.kind, status: error.details.status, delayMs },
          "retrying model call",
        );
      },
    },
  });
}

function createJobs(config: Config, state: StateStore, metrics: Metrics, logger: Logger): JobRunner {
  const { asyncAfterMs, heartbeatMs, ttlMs, maxRunningPerOwner, maxPerOwner, maxTotal } = config.jobs;
  // Three missed heartbeats (and two seconds for a slow store or a busy event loop) before a job counts as interrupted.
  const store = new JobStore(state, { ttlMs, staleMs: 3 * heartbeatMs + 2_000, maxRunningPerOwner, maxPerOwner, maxTotal });
  return new JobRunner(store, { asyncAfterMs, heartbeatMs }, { metrics, logger: logger.child({ component: "jobs" }) });
}

/** Questions are embedded in a fair Ollama slot, like every other call to it. */
function createKnowledge(config: Config, parts: Pick<Services, "ollama" | "limiters" | "state">): KnowledgeBase {
  const { embedModel, embedDimensions, maxDocumentBytes, maxBytesPerOwner } = config.docs;
  const embedder = new Embedder({
    ollama: parts.ollama,
    model: embedModel,
    dimensions: embedDimensions,
    run: (work, signal, owner) => parts.limiters.ollama.run(work, signal, owner),
  });
  return new KnowledgeBase(new DocumentStore(parts.state), embedder, {
    maxDocumentBytes,
    maxBytesPerOwner,
    // About 150 MB of 768-dimension vectors: what one token's add_document calls may store.
    maxDocumentsPerOwner: 1_000,
    maxChunksPerOwner: 50_000,
  });
}

function createMetrics(config: Config, parts: Pick<Services, "limiters" | "catalog" | "sessions" | "sseStreams">): Metrics {
  const { limiters, catalog, sessions, sseStreams } = parts;
  const configuredModels = new Set([config.defaultModel, ...config.fallbackModels, ...config.warmModels, ...config.api.aliases.map((rule) => rule.model)]);
  return new Metrics(
    {
      openSessions: () => ({ sse: sseStreams.open, "streamable-http": Math.max(0, sessions.size - sseStreams.open) }),
      queue: () => ({
        ollama: { waiting: limiters.ollama.waiting, running: limiters.ollama.running },
        openai: { waiting: limiters.openai.waiting, running: limiters.openai.running },
      }),
    },
    (name) => configuredModels.has(name) || catalog.knows(name),
  );
}
