import type { ServerResponse } from "node:http";
import { type ErrorContext, LlmError, toLlmError } from "../llm/errors.js";
import type { Exchanged, LlmGateway } from "../llm/gateway/gateway.js";
import type { ResolvedModel } from "../llm/gateway/router.js";
import { readCapped } from "../llm/providers/httpClient.js";
import { type StreamLimits, StreamWatch } from "../llm/streaming/streamWatch.js";
import type { WireApi } from "../llm/types.js";
import { redactText } from "../secrets.js";
import { SHUTTING_DOWN, toApiError } from "./errors.js";
import type { ApiRecord } from "./record.js";
import { sendJsonText } from "./respond.js";
import { MAX_UPSTREAM_BYTES, type SseEvent, sseEvents } from "./sse.js";
import { type ClientEvent, ClientStream, type StreamDialect, type Usage } from "./stream.js";

/** How a streamed upstream answer becomes the client's events (as they are, or translated). */
export type StreamDecoder = {
  readonly dialect: StreamDialect;
  /** The client events an upstream event stands for; an upstream error event is thrown as an LlmError. */
  decode(event: SseEvent): ClientEvent[];
  /** Whether the upstream has said its answer is whole (OpenAI's [DONE] or a finish reason, Anthropic's message_stop). */
  readonly complete: boolean;
  /** Events that close the answer after the upstream's last one (a translation's message_delta and message_stop). */
  finish(): ClientEvent[];
};

/** How one model is asked: which of its wire APIs, with what body, and how its answer becomes the client's. */
export type Plan = {
  wire: WireApi;
  body: Record<string, unknown>;
  /** Streamed answers: a fresh decoder for this attempt. */
  decoder?: StreamDecoder;
  /** Whole answers: the client's JSON text from the upstream's, and the usage it reports. */
  convert?: (text: string) => { text: string; usage: Usage };
};

export type ExchangeDeps = { gateway: LlmGateway; streamLimits: StreamLimits; stopping: AbortSignal };

export type ExchangeRequest = {
  res: ServerResponse;
  owner: string;
  primary: ResolvedModel;
  stream: boolean;
  /** Headers for the answer (request id, adjustments). */
  headers: Record<string, string>;
  plan(target: ResolvedModel): Plan;
};

type Answer = { usage: Usage; timeToFirstTokenMs: number | undefined };

/**
 * Answers one API request through the gateway's loop (fair slot, retries, fallback), relaying or
 * translating the chosen model's answer. A streamed answer is committed to the client only with
 * its first piece of answer, so a failure before that is retried (or another model asked) without
 * the client seeing it; after that, a failure ends the stream with the API's error event. The
 * client going away aborts the upstream request at once. Fills `record` for the request's log line.
 */
export async function exchange(deps: ExchangeDeps, request: ExchangeRequest, record: ApiRecord): Promise<void> {
  const { res } = request;
  // One controller for both ends of the request (the client going, the server stopping): cheaper
  // than AbortSignal.any, whose dependent signals on the long-lived `stopping` cost the GC.
  const cancel = new AbortController();
  const stop = () => cancel.abort(deps.stopping.reason);
  const gone = () => res.writableFinished || cancel.abort(new Error("the client closed the connection"));
  res.once("close", gone);
  // Gone already (while the body was read or the model looked up): its close event has passed.
  if (res.destroyed) gone();
  deps.stopping.addEventListener("abort", stop, { once: true });
  const signal = cancel.signal;
  const sink = request.stream ? new ClientStream(res, request.headers) : undefined;
  let exchanged: Exchanged<Answer & { text?: string }>;
  try {
    exchanged = await deps.gateway.exchange(
      request.primary,
      { signal, owner: request.owner, committed: () => sink?.committed ?? false },
      (target, attemptSignal) => {
        record.provider = target.provider.name;
        record.model = target.qualifiedName;
        const plan = planFor(request, target);
        return sink ? streamOnce(deps.streamLimits, target, plan, sink, attemptSignal) : wholeOnce(deps.streamLimits, target, plan, attemptSignal);
      },
    );
  } catch (error) {
    if (!sink?.committed) throw error;
    record.failure = error;
    sink.fail(deps.stopping.aborted ? SHUTTING_DOWN : toApiError(error));
    return;
  } finally {
    deps.stopping.removeEventListener("abort", stop);
    if (sink) Object.assign(record, { usage: sink.usage });
  }
  const { value, retries, fellBackFrom } = exchanged;
  Object.assign(record, { usage: value.usage, timeToFirstTokenMs: value.timeToFirstTokenMs, retries, fellBackFrom: fellBackFrom.map((f) => f.model) });
  if (value.text !== undefined && !res.headersSent) sendJsonText(res, 200, redactText(value.text), request.headers);
}

/** The upstream request; one that cannot be built from the client's body is the client's error (400, never retried). */
function planFor(request: ExchangeRequest, target: ResolvedModel): Plan {
  try {
    return request.plan(target);
  } catch (error) {
    if (error instanceof LlmError) throw error;
    throw new LlmError(
      "bad_request",
      `This request cannot be sent to ${target.qualifiedName}: ${redactText(String((error as Error)?.message ?? error)).slice(0, 200)}`,
      {
        provider: target.provider.name,
        model: target.model,
      },
    );
  }
}

function contextOf(target: ResolvedModel, baseUrl = ""): ErrorContext {
  return { provider: target.provider.name, baseUrl, model: target.model };
}

async function streamOnce(limits: StreamLimits, target: ResolvedModel, plan: Plan, sink: ClientStream, signal: AbortSignal | undefined): Promise<Answer> {
  const decoder = plan.decoder!;
  sink.restart(decoder.dialect);
  const watch = new StreamWatch(limits, signal);
  let context = contextOf(target);
  let events = 0;
  try {
    const upstream = await target.provider.relay(plan.wire, plan.body, watch.signal);
    context = contextOf(target, upstream.baseUrl);
    for await (const event of sseEvents(upstream.body, context)) {
      events++;
      const out = decoder.decode(event);
      if (out.some((e) => !decoder.dialect.isPreamble(e))) watch.token();
      for (const e of out) await sink.send(e);
    }
    // The openai SDK is not in this path, but undici also ends a body quietly when its signal aborts.
    if (watch.signal.aborted) throw watch.signal.reason;
    if (!decoder.complete)
      throw new LlmError("interrupted", `${context.provider} at ${context.baseUrl} ended the stream of '${target.model}' before the end of its answer.`, {
        provider: context.provider,
        model: target.model,
      });
    for (const e of decoder.finish()) await sink.send(e);
    await sink.end();
    return { usage: sink.usage, timeToFirstTokenMs: watch.timeToFirstTokenMs };
  } catch (error) {
    const failure = watch.failure(context.provider, target.model) ?? toLlmError(error, context);
    if (failure.kind === "unreachable" && events > 0) {
      throw new LlmError("interrupted", `The connection to ${context.provider} at ${context.baseUrl} broke during the answer of '${target.model}'.`, {
        provider: context.provider,
        model: target.model,
      });
    }
    throw failure;
  } finally {
    watch.dispose();
  }
}

async function wholeOnce(limits: StreamLimits, target: ResolvedModel, plan: Plan, signal: AbortSignal | undefined): Promise<Answer & { text: string }> {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new Error("total timeout")), limits.totalMs);
  const cancelled = () => deadline.abort(signal?.reason);
  signal?.addEventListener("abort", cancelled, { once: true });
  let context = contextOf(target);
  try {
    const upstream = await target.provider.relay(plan.wire, plan.body, deadline.signal);
    context = contextOf(target, upstream.baseUrl);
    const converted = plan.convert!(await readCapped(upstream.body, MAX_UPSTREAM_BYTES));
    return { ...converted, timeToFirstTokenMs: undefined };
  } catch (error) {
    if (signal?.aborted)
      throw new LlmError("cancelled", "The request was cancelled before the model answered.", { provider: context.provider, model: target.model });
    if (deadline.signal.aborted) {
      const message = `${context.provider} model '${target.model}' did not finish within ${limits.totalMs} ms (LLM_TOTAL_TIMEOUT_MS). Raise LLM_TOTAL_TIMEOUT_MS for slow models, or stream the answer.`;
      throw new LlmError("timeout", message, { provider: context.provider, model: target.model });
    }
    throw toLlmError(error, context);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", cancelled);
  }
}

/** Parses a whole upstream answer as a JSON object; anything else is the upstream's failure. */
export function upstreamJson(text: string, target: ResolvedModel): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new LlmError("provider_error", `${target.provider.name} answered '${target.model}' with something that is not a JSON object.`, {
    provider: target.provider.name,
    model: target.model,
  });
}
