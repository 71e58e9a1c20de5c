import { describe, expect, it } from "vitest";
import { type ChatCompletionChunk, chatCompletionBody, streamChatCompletion } from "../../../src/llm/streaming/chatCompletions.js";

const limits = { firstTokenMs: 2000, idleMs: 2000, totalMs: 5000 };
const context = { provider: "openai" as const, baseUrl: "https://api.example.com/v1", limits };

async function* chunks(...values: ChatCompletionChunk[]): AsyncGenerator<ChatCompletionChunk> {
  for (const value of values) yield value;
}

describe("streamed chat completions (the openai SDK's chunks)", () => {
  it("asks for usage and reasoning in the OpenAI shape", () => {
    expect(chatCompletionBody({ model: "gpt-4o-mini", messages: [], think: true, maxTokens: 5 })).toEqual({
      model: "gpt-4o-mini",
      messages: [],
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 5,
      reasoning_effort: "medium",
    });
  });

  it("collects content, reasoning (either field name) and usage", async () => {
    const open = async () =>
      chunks(
        { model: "gpt-4o-mini", choices: [{ delta: { reasoning_content: "hmm" } }] },
        { choices: [{ delta: { content: "Hel" } }] },
        { choices: [{ delta: { content: "lo" }, finish_reason: "stop" }] },
        { choices: [], usage: { prompt_tokens: 5, completion_tokens: 3 } },
      );
    const result = await streamChatCompletion(open, { model: "gpt-4o-mini", messages: [] }, context);
    expect(result).toMatchObject({ text: "Hello", thinking: "hmm", model: "gpt-4o-mini", promptTokens: 5, completionTokens: 3, finishReason: "stop" });
  });

  it("reports an error event and an empty stream as provider errors", async () => {
    await expect(streamChatCompletion(async () => chunks({ error: { message: "quota" } }), { model: "m", messages: [] }, context)).rejects.toMatchObject({
      message: "openai failed mid-answer: quota",
    });
    await expect(streamChatCompletion(async () => chunks(), { model: "m", messages: [] }, context)).rejects.toMatchObject({
      message: expect.stringContaining("not with a stream of chat completion events"),
    });
  });
});
