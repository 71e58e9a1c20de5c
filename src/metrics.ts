import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { JobTool } from "./state/jobs.js";

const MAX_MODEL_LABELS = 64;

/** What the connector door's authorization server did: a fixed set, so no caller grows the series. */
export type ConnectorEvent =
  | "registered"
  | "approved"
  | "denied"
  | "password_refused"
  | "token_issued"
  | "refreshed"
  | "token_refused"
  | "grant_revoked"
  | "access_refused";
export type JobEvent = "started" | "handed_off" | "completed" | "failed" | "cancelled" | "interrupted";

export type CallSample = { tool: string; provider?: string; model?: string; outcome: string; seconds: number };

/** One request to the OpenAI- or Anthropic-compatible endpoints; every label from a fixed set. */
export type ApiSample = {
  route: string;
  provider?: string;
  model?: string;
  outcome: string;
  seconds: number;
  usage?: { inputTokens?: number; outputTokens?: number };
};

/** Prometheus metrics (prom-client), one registry per server so tests can run several. */
export class Metrics {
  readonly registry = new Registry();
  private readonly toolCalls = new Counter({
    name: "mcp_tool_calls_total",
    help: "Tool calls by tool, provider, model and outcome",
    labelNames: ["tool", "provider", "model", "outcome"],
    registers: [this.registry],
  });
  private readonly toolSeconds = new Histogram({
    name: "mcp_tool_call_duration_seconds",
    help: "Tool call latency",
    labelNames: ["tool", "outcome"],
    buckets: [0.005, 0.05, 0.25, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers: [this.registry],
  });
  private readonly firstToken = new Histogram({
    name: "llm_time_to_first_token_seconds",
    help: "Time from a provider request to its first streamed token",
    labelNames: ["provider"],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });
  private readonly providerErrors = new Counter({
    name: "llm_provider_errors_total",
    help: "Failed provider calls by kind",
    labelNames: ["provider", "kind"],
    registers: [this.registry],
  });
  private readonly retries = new Counter({ name: "llm_retries_total", help: "Provider calls retried", labelNames: ["provider"], registers: [this.registry] });
  private readonly tokens = new Counter({
    name: "llm_tokens_total",
    help: "Tokens in (prompt) and out (completion)",
    labelNames: ["provider", "direction"],
    registers: [this.registry],
  });
  private readonly apiRequests = new Counter({
    name: "api_requests_total",
    help: "Requests to /v1/* (OpenAI- and Anthropic-compatible) by route, provider, model and outcome",
    labelNames: ["route", "provider", "model", "outcome"],
    registers: [this.registry],
  });
  private readonly apiSeconds = new Histogram({
    name: "api_request_duration_seconds",
    help: "Latency of requests to /v1/*, to the end of the answer",
    labelNames: ["route", "provider", "model"],
    buckets: [0.005, 0.05, 0.25, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers: [this.registry],
  });
  private readonly apiTokens = new Counter({
    name: "api_tokens_total",
    help: "Tokens in (prompt) and out (completion) of requests to /v1/*",
    labelNames: ["route", "provider", "model", "direction"],
    registers: [this.registry],
  });
  private readonly httpRefusals = new Counter({
    name: "http_refused_requests_total",
    help: "Requests refused before MCP, by status",
    labelNames: ["status"],
    registers: [this.registry],
  });
  private readonly connectorEvents = new Counter({
    name: "connector_events_total",
    help: "The connector door's OAuth events (registrations, approvals, tokens, refusals)",
    labelNames: ["event"],
    registers: [this.registry],
  });
  private readonly jobEvents = new Counter({
    name: "mcp_jobs_total",
    help: "Background jobs by tool and event: started (kept in the store), handed_off (still running after ASYNC_AFTER_MS), completed, failed, cancelled, interrupted",
    labelNames: ["tool", "event"],
    registers: [this.registry],
  });
  private readonly jobSeconds = new Histogram({
    name: "mcp_job_duration_seconds",
    help: "Background jobs: from the call that started them to their end",
    labelNames: ["tool", "outcome"],
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1200, 3600],
    registers: [this.registry],
  });

  private readonly modelLabels = new Set<string>();

  constructor(
    gauges: { openSessions: () => Record<string, number>; queue: () => Record<string, { waiting: number; running: number }> },
    private readonly isKnownModel: (qualifiedName: string) => boolean = () => false,
  ) {
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: "mcp_open_sessions",
      help: "Open MCP sessions by transport",
      labelNames: ["transport"],
      registers: [this.registry],
      collect() {
        for (const [transport, count] of Object.entries(gauges.openSessions())) this.set({ transport }, count);
      },
    });
    new Gauge({
      name: "llm_queue_length",
      help: "Calls waiting for a provider slot",
      labelNames: ["provider"],
      registers: [this.registry],
      collect() {
        for (const [provider, state] of Object.entries(gauges.queue())) this.set({ provider }, state.waiting);
      },
    });
    new Gauge({
      name: "llm_active_calls",
      help: "Calls running against a provider",
      labelNames: ["provider"],
      registers: [this.registry],
      collect() {
        for (const [provider, state] of Object.entries(gauges.queue())) this.set({ provider }, state.running);
      },
    });
  }

  /**
   * No label value comes from a caller: a model the server knows (configured, or listed by a
   * provider) is named, anything else is "other", and past MAX_MODEL_LABELS names everything new is
   * "other" too, so no caller can grow the number of series.
   */
  modelLabel(qualifiedName: string | undefined): string {
    if (!qualifiedName) return "";
    if (this.modelLabels.has(qualifiedName)) return qualifiedName;
    if (!this.isKnownModel(qualifiedName) || this.modelLabels.size >= MAX_MODEL_LABELS) return "other";
    this.modelLabels.add(qualifiedName);
    return qualifiedName;
  }

  toolCall(sample: CallSample): void {
    this.toolCalls.inc({
      tool: sample.tool,
      provider: sample.provider ?? "",
      model: sample.outcome === "ok" ? this.modelLabel(sample.model) : "",
      outcome: sample.outcome,
    });
    this.toolSeconds.observe({ tool: sample.tool, outcome: sample.outcome }, sample.seconds);
  }

  apiRequest(sample: ApiSample): void {
    const labels = { route: sample.route, provider: sample.provider ?? "", model: this.modelLabel(sample.model) };
    this.apiRequests.inc({ ...labels, outcome: sample.outcome });
    this.apiSeconds.observe(labels, sample.seconds);
    if (sample.usage?.inputTokens) this.apiTokens.inc({ ...labels, direction: "in" }, sample.usage.inputTokens);
    if (sample.usage?.outputTokens) this.apiTokens.inc({ ...labels, direction: "out" }, sample.usage.outputTokens);
  }

  providerCall(provider: string, result: { timeToFirstTokenMs?: number; promptTokens?: number; completionTokens?: number }): void {
    if (result.timeToFirstTokenMs !== undefined) this.firstToken.observe({ provider }, result.timeToFirstTokenMs / 1000);
    if (result.promptTokens) this.tokens.inc({ provider, direction: "in" }, result.promptTokens);
    if (result.completionTokens) this.tokens.inc({ provider, direction: "out" }, result.completionTokens);
  }

  providerError(provider: string, kind: string): void {
    this.providerErrors.inc({ provider, kind });
  }

  retry(provider: string): void {
    this.retries.inc({ provider });
  }

  connectorEvent(event: ConnectorEvent): void {
    this.connectorEvents.inc({ event });
  }

  /** Labels only from fixed sets: the tool that made the job and what happened to it. */
  jobEvent(tool: JobTool, event: JobEvent): void {
    this.jobEvents.inc({ tool, event });
  }

  jobEnded(tool: JobTool, outcome: Exclude<JobEvent, "started" | "handed_off">, seconds: number): void {
    this.jobEvents.inc({ tool, event: outcome });
    this.jobSeconds.observe({ tool, outcome }, seconds);
  }

  refused(status: number): void {
    this.httpRefusals.inc({ status: String(status) });
  }
}
