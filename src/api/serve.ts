import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Caller } from "../caller.js";
import type { InFlight } from "../lifecycle.js";
import type { Logger } from "../logger.js";
import type { Metrics } from "../metrics.js";
import type { ModelCatalog } from "../services/catalog.js";
import type { UsageRecorder } from "../state/usage.js";
import type { ModelAliases } from "./aliases.js";
import { type ApiDialect, type ApiError, errorBody, SHUTTING_DOWN, toApiError } from "./errors.js";
import type { ExchangeDeps } from "./exchange.js";
import type { ApiRecord, ApiRoute } from "./record.js";
import { sendJsonText } from "./respond.js";

export type ApiLimits = { maxBodyBytes: number; maxPromptChars: number; maxOutputTokens: number };

/** What the API endpoints are given: the gateway and the parts around it, nothing of MCP. */
export type ApiDeps = ExchangeDeps & {
  catalog: ModelCatalog;
  aliases: ModelAliases;
  metrics: Metrics;
  logger: Logger;
  usage: UsageRecorder;
  inFlight: InFlight;
  limits: ApiLimits;
};

/** One request as an endpoint sees it: the caller already checked by the front door's guard. */
export type ApiCall = { req: IncomingMessage; res: ServerResponse; caller: Caller };

/**
 * Runs one API request: counted in flight (a shutdown waits for it), any failure before the answer
 * began answered with a status and the body of the client's API, then one log line, one metric
 * sample and, when a model answered, the caller's usage.
 */
export async function serveApi(deps: ApiDeps, call: ApiCall, route: ApiRoute, dialect: ApiDialect, work: (record: ApiRecord) => Promise<void>): Promise<void> {
  const record: ApiRecord = { route, requestId: `req_${randomUUID().replaceAll("-", "")}` };
  const started = performance.now();
  let failure: ApiError | undefined;
  try {
    await deps.inFlight.track(work(record));
    if (record.failure !== undefined) failure = deps.stopping.aborted ? SHUTTING_DOWN : toApiError(record.failure);
  } catch (error) {
    failure = deps.stopping.aborted ? SHUTTING_DOWN : toApiError(error);
    if (!call.res.headersSent && !call.res.destroyed) sendError(call.res, dialect, failure, record.requestId);
  }
  finish(deps, call, record, failure, performance.now() - started);
}

export function sendError(res: ServerResponse, dialect: ApiDialect, error: ApiError, requestId?: string): void {
  sendJsonText(res, error.status, JSON.stringify(errorBody(dialect, error)), { "request-id": requestId, ...error.extra.headers });
}

function finish(deps: ApiDeps, call: ApiCall, record: ApiRecord, failure: ApiError | undefined, elapsedMs: number): void {
  const outcome = failure ? failure.kind : "ok";
  const { usage } = record;
  deps.metrics.apiRequest({ route: record.route, provider: record.provider, model: record.model, outcome, seconds: elapsedMs / 1000, usage });
  if (record.provider && usage && (usage.inputTokens !== undefined || usage.outputTokens !== undefined)) {
    deps.metrics.providerCall(record.provider, {
      timeToFirstTokenMs: record.timeToFirstTokenMs,
      promptTokens: usage.inputTokens,
      completionTokens: usage.outputTokens,
    });
  }
  // A model answered (all of it, or part of it before a failure): the caller used those tokens.
  if (record.model && usage && (outcome === "ok" || record.failure !== undefined)) {
    // A model the server knows (configured, or listed by its provider) by name, any other in one bucket: a caller cannot mint rows.
    const model = deps.metrics.modelLabel(record.model) === "other" ? `${record.provider ?? "unknown"}/other` : record.model;
    deps.usage.add({ owner: call.caller.id, model, inputTokens: usage?.inputTokens ?? 0, outputTokens: usage?.outputTokens ?? 0 });
  }
  deps.logger.info(
    {
      requestId: record.requestId,
      route: record.route,
      caller: call.caller.id,
      requestedModel: record.requested?.slice(0, 100),
      provider: record.provider,
      model: record.model,
      stream: record.stream,
      promptTokens: usage?.inputTokens,
      completionTokens: usage?.outputTokens,
      timeToFirstTokenMs: record.timeToFirstTokenMs,
      latencyMs: Math.round(elapsedMs),
      retries: record.retries,
      fellBackFrom: record.fellBackFrom?.length ? record.fellBackFrom : undefined,
      adjustments: record.adjustments?.length ? record.adjustments : undefined,
      status: call.res.statusCode,
      outcome,
      ...(failure && { error: failure.message.slice(0, 300) }),
    },
    "api request",
  );
}
