import type OpenAI from "openai";
import { callDeadline } from "./deadline.js";
import { toLlmError, type ErrorContext } from "./errors.js";
import type { ChatRequest, ChatResult } from "./types.js";

/** A streamed chat completion against any OpenAI-compatible endpoint (OpenAI itself, or Ollama's /v1). */
export async function openaiCompatibleChat(
  client: OpenAI,
  request: ChatRequest,
  context: ErrorContext & { totalTimeoutMs: number },
): Promise<ChatResult> {
  const deadline = callDeadline(context.totalTimeoutMs, request.signal);
  const errorContext = { provider: context.provider, baseUrl: context.baseUrl, model: request.model };
  try {
    const stream = await client.chat.completions.create(
      {
        model: request.model,
        messages: request.messages,
        stream: true,
        stream_options: { include_usage: true },
        ...(request.temperature !== undefined && { temperature: request.temperature }),
        ...(request.maxTokens !== undefined && { max_tokens: request.maxTokens }),
      },
      { signal: deadline.signal },
    );
    let text = "";
    let finishReason: string | undefined;
    let usage: OpenAI.CompletionUsage | undefined;
    let model = request.model;
    for await (const chunk of stream) {
      model = chunk.model || model;
      const choice = chunk.choices[0];
      if (choice?.delta?.content) text += choice.delta.content;
      if (choice?.finish_reason) finishReason = choice.finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    return { text, model, promptTokens: usage?.prompt_tokens, completionTokens: usage?.completion_tokens, finishReason };
  } catch (error) {
    throw deadline.explain(context.provider, request.model) ?? toLlmError(error, errorContext);
  }
}
