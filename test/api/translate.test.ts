import { describe, expect, it } from "vitest";
import { ChunkTranslator, messageFromCompletion } from "../../src/api/anthropic/fromChat.js";
import { messagesRequest } from "../../src/api/anthropic/request.js";
import { toChatCompletion } from "../../src/api/anthropic/toChat.js";
import { LlmError } from "../../src/llm/errors.js";

const request = (body: Record<string, unknown>) => messagesRequest.parse({ model: "openai/gpt-4o-mini", max_tokens: 100, ...body });

describe("Anthropic's Messages request, translated for an OpenAI-compatible model", () => {
  it("carries the system prompt, text, images, tool definitions, tool calls and their results", () => {
    const body = toChatCompletion(
      request({
        system: [
          { type: "text", text: "You are terse." },
          { type: "text", text: "Answer in English.", cache_control: { type: "ephemeral" } },
        ],
        tools: [{ name: "read_file", description: "Reads a file", input_schema: { type: "object", properties: { path: { type: "string" } } } }],
        tool_choice: { type: "any", disable_parallel_tool_use: true },
        stop_sequences: ["END"],
        temperature: 0.2,
        stream: true,
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "What is in a.txt?" },
              { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
            ],
          },
          {
            role: "assistant",
            content: [
              { type: "thinking", thinking: "I should read it.", signature: "sig" },
              { type: "text", text: "Reading." },
              { type: "tool_use", id: "toolu_1", name: "read_file", input: { path: "a.txt" } },
            ],
          },
          {
            role: "user",
            content: [
              { type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "text", text: "hello" }] },
              { type: "text", text: "Summarise it." },
            ],
          },
        ],
      }),
      "gpt-4o-mini",
    );
    expect(body).toEqual({
      model: "gpt-4o-mini",
      max_tokens: 100,
      temperature: 0.2,
      stop: ["END"],
      stream: true,
      stream_options: { include_usage: true },
      tools: [
        {
          type: "function",
          function: { name: "read_file", description: "Reads a file", parameters: { type: "object", properties: { path: { type: "string" } } } },
        },
      ],
      tool_choice: "required",
      parallel_tool_calls: false,
      messages: [
        { role: "system", content: "You are terse.\n\nAnswer in English." },
        {
          role: "user",
          content: [
            { type: "text", text: "What is in a.txt?" },
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
          ],
        },
        {
          role: "assistant",
          content: "Reading.",
          tool_calls: [{ id: "toolu_1", type: "function", function: { name: "read_file", arguments: '{"path":"a.txt"}' } }],
        },
        { role: "tool", tool_call_id: "toolu_1", content: "hello" },
        { role: "user", content: "Summarise it." },
      ],
    });
  });

  it("maps every tool_choice, marks failed tool results, and keeps system-role messages", () => {
    const choice = (tool_choice: Record<string, unknown>) =>
      toChatCompletion(request({ tool_choice, tools: [{ name: "t" }], messages: [{ role: "user", content: "x" }] }), "m").tool_choice;
    expect(choice({ type: "auto" })).toBe("auto");
    expect(choice({ type: "none" })).toBe("none");
    expect(choice({ type: "tool", name: "t" })).toEqual({ type: "function", function: { name: "t" } });
    const failed = toChatCompletion(
      request({
        messages: [
          { role: "system", content: [{ type: "text", text: "Environment: linux" }] },
          { role: "user", content: [{ type: "tool_result", tool_use_id: "x", is_error: true, content: "no such file" }] },
        ],
      }),
      "m",
    );
    expect(failed.messages).toEqual([
      { role: "system", content: "Environment: linux" },
      { role: "tool", tool_call_id: "x", content: "Error: no such file" },
    ]);
  });

  it("refuses what has no counterpart with a bad-request error that says so", () => {
    const server = request({ tools: [{ name: "web_search", type: "web_search_20250305" }], messages: [{ role: "user", content: "x" }] });
    expect(() => toChatCompletion(server, "m")).toThrow(LlmError);
    expect(() => toChatCompletion(server, "m")).toThrow(/server tool web_search_20250305; an OpenAI-compatible model cannot run it/);
    const pdf = request({ messages: [{ role: "user", content: [{ type: "document", source: { type: "base64", data: "x" } }] }] });
    expect(() => toChatCompletion(pdf, "m")).toThrow(/Document blocks cannot be sent/);
  });
});

describe("an OpenAI chat completion, translated into Anthropic's answer", () => {
  it("puts reasoning in a thinking block, text in a text block, each tool call in a tool_use block", () => {
    const message = messageFromCompletion(
      {
        choices: [
          {
            message: {
              content: "Let me check.",
              reasoning_content: "The user wants the weather.",
              tool_calls: [{ id: "call_1", function: { name: "weather", arguments: '{"city":"Kyoto"}' } }],
            },
            finish_reason: "tool_calls",
          },
        ],
        usage: { prompt_tokens: 12, completion_tokens: 7 },
      },
      "openai/gpt-4o-mini",
    );
    expect(message).toMatchObject({
      type: "message",
      role: "assistant",
      model: "openai/gpt-4o-mini",
      stop_reason: "tool_use",
      usage: { input_tokens: 12, output_tokens: 7 },
      content: [
        { type: "thinking", thinking: "The user wants the weather." },
        { type: "text", text: "Let me check." },
        { type: "tool_use", id: "call_1", name: "weather", input: { city: "Kyoto" } },
      ],
    });
    expect(message.id).toMatch(/^msg_[0-9a-f]{24}$/);
  });

  it("takes inline <think> apart too, and maps the finish reasons", () => {
    const inline = messageFromCompletion({ choices: [{ message: { content: "<think>hmm</think>Four." }, finish_reason: "length" }] }, "m");
    expect(inline.content).toEqual([
      { type: "thinking", thinking: "hmm", signature: "" },
      { type: "text", text: "Four." },
    ]);
    expect(inline.stop_reason).toBe("max_tokens");
    expect(messageFromCompletion({ choices: [{ message: { content: "x" }, finish_reason: "content_filter" }] }, "m").stop_reason).toBe("refusal");
  });

  it("turns a stream of chunks into Anthropic's event sequence, blocks opened and closed in order", () => {
    const translator = new ChunkTranslator("openai/gpt-4o-mini");
    const chunks = [
      { choices: [{ delta: { role: "assistant", content: "" } }] },
      { choices: [{ delta: { reasoning: "Think" } }] },
      { choices: [{ delta: { reasoning: "ing." } }] },
      { choices: [{ delta: { content: "Hi" } }] },
      { choices: [{ delta: { tool_calls: [{ index: 0, id: "call_a", function: { name: "ls", arguments: '{"pa' } }] } }] },
      { choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: 'th":"."}' } }] } }] },
      { choices: [{ delta: {}, finish_reason: "tool_calls" }] },
      { choices: [], usage: { prompt_tokens: 5, completion_tokens: 9 } },
    ];
    const events = [...chunks.flatMap((chunk) => translator.push(chunk)), ...translator.end()];
    expect(translator.finished).toBe(true);
    expect(
      events.map((e) => [
        e.event,
        e.data.index,
        (e.data.delta as Record<string, unknown> | undefined)?.type ?? (e.data.content_block as Record<string, unknown> | undefined)?.type,
      ]),
    ).toEqual([
      ["message_start", undefined, undefined],
      ["content_block_start", 0, "thinking"],
      ["content_block_delta", 0, "thinking_delta"],
      ["content_block_delta", 0, "thinking_delta"],
      ["content_block_stop", 0, undefined],
      ["content_block_start", 1, "text"],
      ["content_block_delta", 1, "text_delta"],
      ["content_block_stop", 1, undefined],
      ["content_block_start", 2, "tool_use"],
      ["content_block_delta", 2, "input_json_delta"],
      ["content_block_delta", 2, "input_json_delta"],
      ["content_block_stop", 2, undefined],
      ["message_delta", undefined, undefined],
      ["message_stop", undefined, undefined],
    ]);
    expect(events[8]!.data.content_block).toEqual({ type: "tool_use", id: "call_a", name: "ls", input: {} });
    expect(events.at(-2)!.data).toEqual({
      type: "message_delta",
      delta: { stop_reason: "tool_use", stop_sequence: null },
      usage: { input_tokens: 5, output_tokens: 9 },
    });
  });
});
