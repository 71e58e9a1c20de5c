import type OpenAI from "openai";
import { StreamAccumulator } from "./accumulator.js";
import type { ErrorContext } from "./errors.js";
import type { StreamLimits } from "./streamWatch.js";
import type { ChatRequest, ChatResult, ThinkSetting } from "./types.js";

type ReasoningDelta = { reasoning?: string; reasoning_content?: string };

function reasoningEffort(think: ThinkSetting | undefined): "low" | "medium" | "high" | undefined {
  if (think === undefined || think === false) return undefined;
  return think === true ? "medium" : think;
}

/** A streamed chat completion against any OpenAI-compatible endpoint (OpenAI itself, or Ollama's /v1). */
export async function openaiCompatibleChat(client: OpenAI, request: ChatRequest, context: ErrorContext & { limits: StreamLimits }): Promise<ChatResult> {
  const stream = new StreamAccumulator(request, context.limits, context);
  const effort = reasoningEffort(request.think);
  try {
    const chunks = await client.chat.completions.create(
      {
        model: request.model,
        messages: request.messages,
        stream: true,
        stream_options: { include_usage: true },
        ...(request.temperature !== undefined && { temperature: request.temperature }),
        ...(request.maxTokens !== undefined && { max_tokens: request.maxTokens }),
        ...(effort && { reasoning_effort: effort }),
      },
      { signal: stream.watch.signal },
    );
    let usage: OpenAI.CompletionUsage | undefined;
    let finishReason: string | undefined;
    let model: string | undefined;
    for await (const chunk of chunks) {
      model = chunk.model || model;
      const choice = chunk.choices[0];
      const delta = choice?.delta as (OpenAI.Chat.ChatCompletionChunk.Choice.Delta & ReasoningDelta) | undefined;
      stream.add({ content: delta?.content ?? undefined, thinking: delta?.reasoning ?? delta?.reasoning_content });
      if (choice?.finish_reason) finishReason = choice.finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    return stream.finish({ model, promptTokens: usage?.prompt_tokens, completionTokens: usage?.completion_tokens, finishReason });
  } catch (error) {
    throw stream.fail(error);
  }
}
