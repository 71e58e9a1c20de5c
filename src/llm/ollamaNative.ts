import { cutRedacted } from "../secrets.js";
import { StreamAccumulator } from "./accumulator.js";
import { LlmError, responseError, toLlmError, type ErrorContext } from "./errors.js";
import type { HttpClient } from "./http.js";
import { ndjsonLines } from "./ndjson.js";
import { StreamWatch, type StreamLimits } from "./streamWatch.js";
import type { ChatRequest, ChatResult } from "./types.js";

type NativeChatLine = {
  error?: string;
  model?: string;
  message?: { content?: string; thinking?: string };
  done?: boolean;
  done_reason?: string;
  prompt_eval_count?: number;
  eval_count?: number;
};

export type PullProgress = { status: string; completed?: number; total?: number; digest?: string };

type Native = { baseUrl: string; http: HttpClient };

/** A POST whose answer is streamed; a non-2xx answer becomes an LlmError with Ollama's own words. */
async function post(native: Native, path: string, body: unknown, signal: AbortSignal, context: ErrorContext): Promise<AsyncIterable<Uint8Array>> {
  const response = await native.http.request(`${native.baseUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal,
  });
  if (response.statusCode >= 300) throw await responseError(response, context);
  return response.body;
}

/** POST /api/chat, streamed: the only way to set `think`, `num_ctx` and `keep_alive`. */
export async function nativeChat(native: Native, request: ChatRequest, limits: StreamLimits): Promise<ChatResult> {
  const context = { provider: "ollama" as const, baseUrl: native.baseUrl, model: request.model };
  const stream = new StreamAccumulator(request, limits, context);
  const options = {
    ...(request.temperature !== undefined && { temperature: request.temperature }),
    ...(request.maxTokens !== undefined && { num_predict: request.maxTokens }),
    ...(request.numCtx !== undefined && { num_ctx: request.numCtx }),
  };
  const body = {
    model: request.model,
    messages: request.messages,
    stream: true,
    ...(request.think !== undefined && { think: request.think }),
    ...(request.keepAlive !== undefined && { keep_alive: request.keepAlive }),
    ...(Object.keys(options).length > 0 && { options }),
  };
  try {
    const lines = ndjsonLines(await post(native, "/api/chat", body, stream.watch.signal, context));
    for await (const raw of lines) {
      const line = raw as NativeChatLine;
      if (line.error) throw new LlmError("provider_error", `Ollama failed mid-answer: ${cutRedacted(String(line.error), 300)}`, { provider: "ollama", model: request.model });
      stream.add({ content: line.message?.content, thinking: line.message?.thinking });
      if (line.done || stream.full) {
        return stream.finish({ model: line.model, promptTokens: line.prompt_eval_count, completionTokens: line.eval_count, finishReason: line.done_reason });
      }
    }
    throw new LlmError("interrupted", `Ollama at ${native.baseUrl} ended the stream of '${request.model}' before its final line.`, { provider: "ollama", model: request.model });
  } catch (error) {
    throw stream.fail(error);
  }
}

/** POST /api/pull, streamed: reports bytes completed of total per layer until `success`. */
export async function pull(native: Native, model: string, limits: StreamLimits, signal: AbortSignal | undefined, onProgress: (p: PullProgress) => void): Promise<void> {
  const context = { provider: "ollama" as const, baseUrl: native.baseUrl, model };
  const watch = new StreamWatch(limits, signal);
  try {
    for await (const raw of ndjsonLines(await post(native, "/api/pull", { model, stream: true }, watch.signal, context))) {
      const line = raw as PullProgress & { error?: string };
      if (line.error) throw new LlmError("bad_request", `Ollama could not pull '${model}': ${cutRedacted(String(line.error), 300)}`, { provider: "ollama", model });
      watch.token();
      onProgress(line);
      if (line.status === "success") return;
    }
    throw new LlmError("interrupted", `Ollama ended the pull of '${model}' before it reported success.`, { provider: "ollama", model });
  } catch (error) {
    throw watch.failure("ollama", model) ?? toLlmError(error, context);
  } finally {
    watch.dispose();
  }
}
