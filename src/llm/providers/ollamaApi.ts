import { cutRedacted } from "../../secrets.js";
import { type ErrorContext, LlmError, responseError, toLlmError } from "../errors.js";
import { StreamAccumulator } from "../streaming/accumulator.js";
import { ndjsonLines, releaseBody } from "../streaming/ndjson.js";
import { type StreamLimits, StreamWatch } from "../streaming/streamWatch.js";
import type { ChatRequest, ChatResult } from "../types.js";
import { type HttpClient, type HttpResponse, readCapped } from "./httpClient.js";

/**
 * Ollama's native API (ollama/ollama docs/api.md): the only way in to Ollama. Streamed answers are
 * NDJSON (a final line has `done: true` and the counts); an error can arrive as a line too.
 */

/** Ollama's largest JSON answers (/api/tags with hundreds of models, /api/show with a long license) are well under this. */
const MAX_JSON_BYTES = 16 * 1024 * 1024;

type ChatLine = {
  error?: string;
  model?: string;
  message?: { content?: string; thinking?: string };
  done?: boolean;
  done_reason?: string;
  prompt_eval_count?: number;
  eval_count?: number;
};

export type PullProgress = { status: string; completed?: number; total?: number; digest?: string };

export type OllamaEndpoint = { baseUrl: string; http: HttpClient };

/** A POST whose answer is streamed; a non-2xx answer becomes an LlmError with Ollama's own words. */
async function postStream(endpoint: OllamaEndpoint, path: string, body: unknown, signal: AbortSignal, context: ErrorContext): Promise<HttpResponse["body"]> {
  const response = await endpoint.http.request(`${endpoint.baseUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal,
  });
  if (response.statusCode >= 300) throw await responseError(response, context);
  return response.body;
}

/** A JSON request answered with one JSON body, read with a byte cap. */
export async function requestJson(
  endpoint: OllamaEndpoint,
  method: "GET" | "POST",
  path: string,
  body: { model?: string; [key: string]: unknown } | undefined,
  signal: AbortSignal,
): Promise<unknown> {
  const context = { provider: "ollama" as const, baseUrl: endpoint.baseUrl, model: body?.model };
  let text: string;
  try {
    const response = await endpoint.http.request(`${endpoint.baseUrl}${path}`, {
      method,
      headers: body === undefined ? undefined : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
    if (response.statusCode >= 300) throw await responseError(response, context);
    text = await readCapped(response.body, MAX_JSON_BYTES);
  } catch (error) {
    throw toLlmError(error, context);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new LlmError("provider_error", `Ollama at ${endpoint.baseUrl}${path} answered with something that is not JSON.`, { provider: "ollama" });
  }
}

export function chatBody(request: ChatRequest): Record<string, unknown> {
  const options = {
    ...(request.temperature !== undefined && { temperature: request.temperature }),
    ...(request.maxTokens !== undefined && { num_predict: request.maxTokens }),
    ...(request.numCtx !== undefined && { num_ctx: request.numCtx }),
  };
  return {
    model: request.model,
    messages: request.messages,
    stream: true,
    ...(request.think !== undefined && { think: request.think }),
    ...(request.keepAlive !== undefined && { keep_alive: request.keepAlive }),
    ...(Object.keys(options).length > 0 && { options }),
  };
}

/** POST /api/chat, streamed: deadlines, reasoning (`message.thinking`, or inline tags) kept apart, counts from the last line. */
export async function chat(endpoint: OllamaEndpoint, request: ChatRequest, limits: StreamLimits): Promise<ChatResult> {
  const context = { provider: "ollama" as const, baseUrl: endpoint.baseUrl, model: request.model };
  const stream = new StreamAccumulator(request, limits, context);
  try {
    const body = await postStream(endpoint, "/api/chat", chatBody(request), stream.watch.signal, context);
    const lines = ndjsonLines(body)[Symbol.asyncIterator]();
    for (let next = await lines.next(); !next.done; next = await lines.next()) {
      const line = next.value as ChatLine;
      if (line.error)
        throw new LlmError("provider_error", `Ollama failed mid-answer: ${cutRedacted(String(line.error), 300)}`, { provider: "ollama", model: request.model });
      stream.add({ content: line.message?.content, thinking: line.message?.thinking });
      if (line.done || stream.full) {
        // A full answer drops the request; a finished one reads the end of the body, so the connection is kept.
        if (stream.full) void lines.return(undefined);
        else releaseBody(lines, body);
        return stream.finish({ model: line.model, promptTokens: line.prompt_eval_count, completionTokens: line.eval_count, finishReason: line.done_reason });
      }
    }
    throw new LlmError("interrupted", `Ollama at ${endpoint.baseUrl} ended the stream of '${request.model}' before its final line.`, {
      provider: "ollama",
      model: request.model,
    });
  } catch (error) {
    throw stream.fail(error);
  }
}

/** POST /api/pull, streamed: reports bytes completed of total per layer until `success`. */
export async function pull(
  endpoint: OllamaEndpoint,
  model: string,
  limits: StreamLimits,
  signal: AbortSignal | undefined,
  onProgress: (p: PullProgress) => void,
): Promise<void> {
  const context = { provider: "ollama" as const, baseUrl: endpoint.baseUrl, model };
  const watch = new StreamWatch(limits, signal);
  try {
    const body = await postStream(endpoint, "/api/pull", { model, stream: true }, watch.signal, context);
    const lines = ndjsonLines(body)[Symbol.asyncIterator]();
    for (let next = await lines.next(); !next.done; next = await lines.next()) {
      const line = next.value as PullProgress & { error?: string };
      if (line.error)
        throw new LlmError("bad_request", `Ollama could not pull '${model}': ${cutRedacted(String(line.error), 300)}`, { provider: "ollama", model });
      watch.token();
      onProgress(line);
      if (line.status === "success") return releaseBody(lines, body);
    }
    throw new LlmError("interrupted", `Ollama ended the pull of '${model}' before it reported success.`, { provider: "ollama", model });
  } catch (error) {
    throw watch.failure("ollama", model) ?? toLlmError(error, context);
  } finally {
    watch.dispose();
  }
}

export type EmbedRequest = { model: string; input: string[]; dimensions?: number; keepAlive?: string };

export type EmbedResult = { embeddings: number[][]; promptTokens: number | undefined };

/**
 * POST /api/embed: one vector per input, in order. Inputs longer than the model's context are
 * truncated by Ollama. An answer that is not one finite vector per input, all of one length, is
 * refused here, before anything could store it.
 */
export async function embed(endpoint: OllamaEndpoint, request: EmbedRequest, signal: AbortSignal): Promise<EmbedResult> {
  const body = {
    model: request.model,
    input: request.input,
    truncate: true,
    ...(request.dimensions ? { dimensions: request.dimensions } : {}),
    ...(request.keepAlive !== undefined && { keep_alive: request.keepAlive }),
  };
  const answer = (await requestJson(endpoint, "POST", "/api/embed", body, signal)) as { embeddings?: unknown; prompt_eval_count?: unknown };
  const malformed = (what: string) =>
    new LlmError("provider_error", `Ollama's /api/embed answer for '${request.model}' is malformed: ${what}. Nothing was stored.`, {
      provider: "ollama",
      model: request.model,
    });
  const vectors = answer.embeddings;
  if (!Array.isArray(vectors) || vectors.length !== request.input.length) {
    throw malformed(`expected ${request.input.length} vector(s), got ${Array.isArray(vectors) ? vectors.length : "none"}`);
  }
  const length = Array.isArray(vectors[0]) ? vectors[0].length : 0;
  for (const vector of vectors) {
    if (!Array.isArray(vector) || vector.length !== length || length === 0) throw malformed(`the vectors are not all of one length (${length})`);
    for (const value of vector)
      if (typeof value !== "number" || !Number.isFinite(value)) throw malformed("a vector holds something other than a finite number");
  }
  const tokens = answer.prompt_eval_count;
  return { embeddings: vectors as number[][], promptTokens: typeof tokens === "number" ? tokens : undefined };
}
