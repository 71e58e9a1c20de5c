import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type ApiStack, startApiStack, toolRoundTrip } from "../support/apiStack.js";

/**
 * The OpenAI- and Anthropic-compatible endpoints through the official `openai` and
 * `@anthropic-ai/sdk` clients, as their users point them at a server: a base URL and a token.
 */

const weather = {
  name: "get_weather",
  description: "The weather in a city",
  input_schema: { type: "object" as const, properties: { city: { type: "string" } }, required: ["city"] },
};

describe("the official SDKs against /v1", () => {
  let stack: ApiStack;
  beforeAll(async () => {
    stack = await startApiStack({ MODEL_ALIASES: "claude-*haiku*=qwen3:4b,claude-*=openai/gpt-4o-mini,fast=gemma3:12b" });
  });
  afterEach(() => stack.reset());
  afterAll(() => stack.stop());

  it("lists every model by the names the MCP tools use, plus the exact aliases, in each API's shape", async () => {
    const ids = (await stack.openai().models.list()).data.map((m) => m.id);
    // Embedding models too, as Ollama's own /v1/models and OpenAI's list them.
    const local = ["qwen3:4b", "gemma3:12b", "deepseek-r1:14b", "embeddinggemma:latest", "nomic-embed-text:latest", "all-minilm:latest"];
    expect(ids).toEqual([...local, ...local.map((name) => `openai/${name}`), "openai/gpt-4o-mini", "fast"]);
    const anthropic = await stack.anthropic().models.list();
    expect(anthropic.data.map((m) => [m.type, m.id])).toContainEqual(["model", "qwen3:4b"]);
  });

  it("OpenAI: a plain answer, whole and streamed, with usage, reasoning kept in its own field", async () => {
    stack.ollama.reply = () => ({ thinking: "Greeting back.", content: "Hello there" });
    const whole = await stack.openai().chat.completions.create({ model: "qwen3:4b", messages: [{ role: "user", content: "hi" }] });
    expect(whole.choices[0]!.message).toMatchObject({ role: "assistant", content: "Hello there", reasoning: "Greeting back." });
    expect(whole.usage).toMatchObject({ prompt_tokens: 1, completion_tokens: 4 });
    const stream = await stack.openai().chat.completions.create({ model: "qwen3:4b", messages: [{ role: "user", content: "hi" }], stream: true });
    const deltas: Array<Record<string, unknown>> = [];
    for await (const chunk of stream) deltas.push({ ...chunk.choices[0]?.delta, usage: chunk.usage });
    expect(deltas.map((d) => d.content ?? "").join("")).toBe("Hello there");
    expect(deltas.map((d) => (d as { reasoning?: string }).reasoning ?? "").join("")).toBe("Greeting back.");
    // The server asks the upstream for usage (it records it per token), but a client that did not ask does not get the extra chunk.
    expect(deltas.every((d) => d.usage === undefined || d.usage === null)).toBe(true);
    expect((stack.ollama.requests.at(-1)!.body as Record<string, unknown>).stream_options).toEqual({ include_usage: true });
  });

  it("OpenAI: a tool call round trip, local and cloud", async () => {
    for (const [model, standIn, upstreamModel] of [
      ["qwen3:4b", stack.ollama, "qwen3:4b"],
      ["openai/gpt-4o-mini", stack.cloud, "gpt-4o-mini"],
    ] as const) {
      standIn.reply = toolRoundTrip;
      const tools = [{ type: "function" as const, function: { name: weather.name, description: weather.description, parameters: weather.input_schema } }];
      const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "Weather in Kyoto?" }];
      const first = await stack.openai().chat.completions.create({ model, messages, tools, stream: true });
      const calls: Record<number, { id?: string; name?: string; args: string }> = {};
      for await (const chunk of first) {
        for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
          calls[call.index] ??= { args: "" };
          const held = calls[call.index]!;
          held.id ??= call.id;
          held.name ??= call.function?.name;
          held.args += call.function?.arguments ?? "";
        }
      }
      expect(calls[0]).toEqual({ id: "call_w1", name: "get_weather", args: '{"city":"Kyoto"}' });
      messages.push({
        role: "assistant",
        content: null,
        tool_calls: [{ id: "call_w1", type: "function", function: { name: "get_weather", arguments: calls[0]!.args } }],
      });
      messages.push({ role: "tool", tool_call_id: "call_w1", content: "sunny, 24°C" });
      const second = await stack.openai().chat.completions.create({ model, messages, tools });
      expect(second.choices[0]!.message.content).toBe("The weather is sunny.");
      expect((standIn.requests.at(-1)!.body as { model: string }).model).toBe(upstreamModel);
    }
  });

  it("Anthropic: a plain answer, whole and streamed with the full event sequence, thinking kept as thinking", async () => {
    stack.ollama.reply = () => ({ thinking: "They greet me.", content: "Hello back" });
    const whole = await stack
      .anthropic()
      .messages.create({ model: "qwen3:4b", max_tokens: 200, system: "Be brief.", messages: [{ role: "user", content: "hi" }] });
    expect(whole.content).toEqual([
      { type: "thinking", thinking: "They greet me.", signature: "" },
      { type: "text", text: "Hello back" },
    ]);
    expect(whole.usage).toMatchObject({ input_tokens: 3, output_tokens: 5 });
    const stream = stack
      .anthropic()
      .messages.stream({ model: "qwen3:4b", max_tokens: 200, system: [{ type: "text", text: "Be brief." }], messages: [{ role: "user", content: "hi" }] });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type === "content_block_delta" ? event.delta.type : event.type);
    expect(types).toEqual([
      "message_start",
      "content_block_start",
      "thinking_delta",
      "thinking_delta",
      "thinking_delta",
      "content_block_stop",
      "content_block_start",
      "text_delta",
      "text_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    const final = await stream.finalMessage();
    expect(final.content.map((block) => block.type)).toEqual(["thinking", "text"]);
    expect(final.usage.output_tokens).toBe(5);
    expect(stack.ollama.requests.at(-1)!.path).toBe("/v1/messages");
  });

  it("Anthropic: a tool use round trip, relayed to Ollama and translated for the cloud", async () => {
    for (const [model, standIn, path] of [
      ["qwen3:4b", stack.ollama, "/v1/messages"],
      ["openai/gpt-4o-mini", stack.cloud, "/v1/chat/completions"],
    ] as const) {
      standIn.reply = toolRoundTrip;
      const messages: Anthropic.MessageParam[] = [{ role: "user", content: "Weather in Kyoto?" }];
      const first = await stack
        .anthropic()
        .messages.stream({ model, max_tokens: 300, tools: [weather], messages })
        .finalMessage();
      expect(first.stop_reason).toBe("tool_use");
      const use = first.content.find((block) => block.type === "tool_use")!;
      expect(use).toMatchObject({ type: "tool_use", name: "get_weather", input: { city: "Kyoto" } });
      messages.push(
        { role: "assistant", content: first.content as Anthropic.ContentBlockParam[] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "sunny" }] },
      );
      const second = await stack.anthropic().messages.create({ model, max_tokens: 300, tools: [weather], messages });
      expect(second.content).toEqual([{ type: "text", text: "The weather is sunny." }]);
      expect(standIn.requests.at(-1)!.path).toBe(path);
    }
    const translated = stack.cloud.requests.at(-1)!.body as { messages: Array<Record<string, unknown>> };
    expect(translated.messages.slice(-2)).toEqual([
      {
        role: "assistant",
        content: "Let me look.",
        tool_calls: [{ id: "call_w1", type: "function", function: { name: "get_weather", arguments: '{"city":"Kyoto"}' } }],
      },
      { role: "tool", tool_call_id: "call_w1", content: "sunny" },
    ]);
  });

  it("Anthropic: a cloud model through translation, reasoning as a thinking block, whole and streamed", async () => {
    stack.cloud.reply = () => ({ thinking: "Plan the reply.", content: "Cloud says hi" });
    const whole = await stack.anthropic().messages.create({ model: "openai/gpt-4o-mini", max_tokens: 100, messages: [{ role: "user", content: "hi" }] });
    expect(whole).toMatchObject({ model: "openai/gpt-4o-mini", stop_reason: "end_turn", usage: { input_tokens: 1, output_tokens: 6 } });
    expect(whole.content).toEqual([
      { type: "thinking", thinking: "Plan the reply.", signature: "" },
      { type: "text", text: "Cloud says hi" },
    ]);
    const streamed = await stack
      .anthropic()
      .messages.stream({ model: "openai/gpt-4o-mini", max_tokens: 100, messages: [{ role: "user", content: "hi" }] })
      .finalMessage();
    expect(streamed.content).toEqual(whole.content);
    expect(streamed.usage).toMatchObject({ input_tokens: 1, output_tokens: 6 });
    const sent = stack.cloud.requests.at(-1)!;
    expect(sent.path).toBe("/v1/chat/completions");
    expect(sent.headers.authorization).toMatch(/^Bearer sk-cloud-/);
  });

  it("maps the names clients send on their own with MODEL_ALIASES", async () => {
    const haiku = await stack
      .anthropic()
      .messages.create({ model: "claude-haiku-4-5-20251001", max_tokens: 50, messages: [{ role: "user", content: "title?" }] });
    expect(haiku.content).toEqual([{ type: "text", text: "Echo from qwen3:4b: title?" }]);
    const sonnet = await stack.openai().chat.completions.create({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "x" }] });
    expect(sonnet.choices[0]!.message.content).toBe("Echo from gpt-4o-mini: x");
    expect(
      stack
        .apiLogs()
        .slice(-2)
        .map((l) => [l.requestedModel, l.model]),
    ).toEqual([
      ["claude-haiku-4-5-20251001", "qwen3:4b"],
      ["claude-sonnet-4-5", "openai/gpt-4o-mini"],
    ]);
  });

  it("answers an unknown model with the API's not-found error, naming the models there are", async () => {
    const openai = await stack
      .openai()
      .chat.completions.create({ model: "llama9:70b", messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(openai).toBeInstanceOf(OpenAI.NotFoundError);
    expect((openai as InstanceType<typeof OpenAI.NotFoundError>).error).toMatchObject({
      type: "invalid_request_error",
      code: "model_not_found",
      param: "model",
    });
    expect((openai as Error).message).toContain(
      "Models: qwen3:4b, gemma3:12b, deepseek-r1:14b, embeddinggemma:latest, nomic-embed-text:latest, all-minilm:latest, openai/qwen3:4b",
    );
    const anthropic = await stack
      .anthropic()
      .messages.create({ model: "llama9:70b", max_tokens: 10, messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(anthropic).toBeInstanceOf(Anthropic.NotFoundError);
    expect((anthropic as InstanceType<typeof Anthropic.NotFoundError>).error).toMatchObject({ type: "error", error: { type: "not_found_error" } });
    expect(stack.ollama.requests.filter((r) => r.path.startsWith("/v1/"))).toEqual([]);
  });

  it("counts tokens well enough for a client deciding when to compact", async () => {
    const counted = await stack
      .anthropic()
      .messages.countTokens({ model: "qwen3:4b", system: "x".repeat(400), messages: [{ role: "user", content: "y".repeat(400) }] });
    expect(counted.input_tokens).toBe(200);
  });
});
