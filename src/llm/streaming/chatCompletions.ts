import { cutRedacted } from "../../secrets.js";
import { type ErrorContext, LlmError } from "../errors.js";
import type { ChatMessage, ChatRequest, ChatResult, ThinkSetting } from "../types.js";
import { StreamAccumulator } from "./accumulator.js";
import type { StreamLimits } from "./streamWatch.js";

/** The OpenAI-compatible chat completions API (OpenAI itself, other vendors), streamed through the openai SDK. */

export type ChatCompletionBody = {
  model: string;
  messages: ChatMessage[];
  stream: true;
  stream_options: { include_usage: boolean };
  temperature?: number;
  max_tokens?: number;
  reasoning_effort?: "low" | "medium" | "high";
};

/** One streamed event. Servers differ in where they put reasoning: `reasoning` (Ollama) or `reasoning_content`. */
export type ChatCompletionChunk = {
  model?: string;
  choices?: Array<{ delta?: { content?: string | null; reasoning?: string | null; reasoning_content?: string | null } | null; finish_reason?: string | null }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  error?: { message?: string } | string;
};

/** Sends the body and returns the stream of chunks (the openai SDK's `chat.completions.create`). */
export type OpenChunks = (body: ChatCompletionBody, signal: AbortSignal) => Promise<AsyncIterable<ChatCompletionChunk>>;

function reasoningEffort(think: ThinkSetting | undefined): "low" | "medium" | "high" | undefined {
  if (think === undefined || think === false) return undefined;
  return think === true ? "medium" : think;
}

export function chatCompletionBody(request: ChatRequest): ChatCompletionBody {
  const effort = reasoningEffort(request.think);
  return {
    model: request.model,
    messages: request.messages,
    stream: true,
    stream_options: { include_usage: true },
    ...(request.temperature !== undefined && { temperature: request.temperature }),
    ...(request.maxTokens !== undefined && { max_tokens: request.maxTokens }),
    ...(effort && { reasoning_effort: effort }),
  };
}

/** One streamed chat completion: deadlines, deltas, reasoning kept out of the answer, usage at the end. */
export async function streamChatCompletion(
  open: OpenChunks,
  request: ChatRequest,
  context: ErrorContext & { limits: StreamLimits },
  mapError: (error: unknown) => unknown = (error) => error,
): Promise<ChatResult> {
  const stream = new StreamAccumulator(request, context.limits, context);
  try {
    const chunks = await open(chatCompletionBody(request), stream.watch.signal);
    let usage: ChatCompletionChunk["usage"];
    let finishReason: string | undefined;
    let model: string | undefined;
    let events = 0;
    for await (const chunk of chunks) {
      events++;
      if (chunk.error) {
        const message = typeof chunk.error === "string" ? chunk.error : (chunk.error.message ?? "no details");
        throw new LlmError("provider_error", `${context.provider} failed mid-answer: ${cutRedacted(message, 300)}`, {
          provider: context.provider,
          model: request.model,
        });
      }
      model = chunk.model || model;
      const choice = chunk.choices?.[0];
      stream.add({ content: choice?.delta?.content ?? undefined, thinking: choice?.delta?.reasoning ?? choice?.delta?.reasoning_content ?? undefined });
      if (choice?.finish_reason) finishReason = choice.finish_reason;
      if (chunk.usage) usage = chunk.usage;
      if (stream.full) break;
    }
    if (events === 0 && !stream.watch.signal.aborted) {
      throw new LlmError("provider_error", `${context.provider} at ${context.baseUrl} answered, but not with a stream of chat completion events.`, {
        provider: context.provider,
        model: request.model,
      });
    }
    return stream.finish({ model, promptTokens: usage?.prompt_tokens, completionTokens: usage?.completion_tokens, finishReason });
  } catch (error) {
    throw stream.fail(mapError(error));
  }
}
