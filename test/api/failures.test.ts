import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { API_TOKEN, type ApiStack, startApiStack } from "../support/apiStack.js";

/**
 * Failures of the upstream and of the client: retried or handed to a fallback while nothing of the
 * answer has reached the client, never after; the upstream request dropped as soon as the client
 * goes; an Ollama too old for a route named with the version it needs.
 */

const ask = { model: "qwen3:4b", max_tokens: 100, messages: [{ role: "user" as const, content: "hi" }] };

describe("/v1 when things fail", () => {
  let stack: ApiStack;
  beforeAll(async () => {
    // The model lists are read once here and kept: a fault set up by a test hits the call under test only.
    stack = await startApiStack({ FALLBACK_MODELS: "openai/gpt-4o-mini", MODELS_CACHE_TTL_MS: "86400000" });
    await stack.openai().models.list();
  });
  afterEach(() => stack.reset());
  afterAll(() => stack.stop());

  const relayed = () => stack.ollama.requests.filter((r) => r.path.startsWith("/v1/"));

  it("retries an upstream failure before the first byte, unseen by the client", async () => {
    stack.ollama.behaviour.failWith = { status: 503, error: "server busy", times: 1 };
    const message = await stack.anthropic().messages.stream(ask).finalMessage();
    expect(message.content).toEqual([{ type: "text", text: "Echo from qwen3:4b: hi" }]);
    expect(relayed()).toHaveLength(2);
    expect(stack.apiLogs().at(-1)).toMatchObject({ outcome: "ok", retries: 1, model: "qwen3:4b" });
  });

  it("retries a connection dropped before any part of the answer", async () => {
    stack.ollama.behaviour = { firstTokenDelayMs: 0, tokenDelayMs: 0, dropAfterTokens: 0, dropOnce: true };
    const completion = await stack.openai().chat.completions.create({ model: "qwen3:4b", messages: [{ role: "user", content: "hi" }], stream: true });
    let text = "";
    for await (const chunk of completion) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe("Echo from qwen3:4b: hi");
    expect(relayed()).toHaveLength(2);
  });

  it("falls back to FALLBACK_MODELS (translated for the cloud) when the local model keeps failing before the first byte", async () => {
    stack.ollama.behaviour.failWith = { status: 500, error: "model runner crashed", times: 100 };
    const message = await stack.anthropic().messages.stream(ask).finalMessage();
    expect(message.content).toEqual([{ type: "text", text: "Echo from gpt-4o-mini: hi" }]);
    expect(stack.cloud.requests.at(-1)!.path).toBe("/v1/chat/completions");
    expect(stack.apiLogs().at(-1)).toMatchObject({ outcome: "ok", model: "openai/gpt-4o-mini", fellBackFrom: ["qwen3:4b"] });
  });

  it("ends a stream that fails after its first byte with the API's error event, and asks no one else", async () => {
    stack.ollama.behaviour.errorAfterTokens = 2;
    const stream = stack.anthropic().messages.stream(ask);
    const seen: string[] = [];
    stream.on("text", (text) => seen.push(text));
    const failure = await stream.finalMessage().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(Anthropic.APIError);
    expect((failure as Error).message).toContain("failed mid-answer: an error was encountered while running the model");
    expect(seen.join("")).toBe("Echo from");
    const openai = await stack.openai().chat.completions.create({ model: "qwen3:4b", messages: [{ role: "user", content: "hi" }], stream: true });
    const chunks: string[] = [];
    const broken = await (async () => {
      for await (const chunk of openai) chunks.push(chunk.choices[0]?.delta.content ?? "");
    })().catch((e: unknown) => e);
    expect(broken).toBeInstanceOf(OpenAI.APIError);
    expect(chunks.join("")).toBe("Echo from");
    expect(relayed()).toHaveLength(2);
    expect(stack.cloud.requests).toHaveLength(0);
    expect(
      stack
        .apiLogs()
        .slice(-2)
        .map((l) => [l.status, l.outcome]),
    ).toEqual([
      [200, "provider_error"],
      [200, "provider_error"],
    ]);
  });

  it("drops the upstream request as soon as the client goes, before or during the answer", async () => {
    stack.ollama.behaviour.hang = true;
    const early = new AbortController();
    const pending = stack
      .anthropic()
      .messages.create(ask, { signal: early.signal })
      .catch(() => undefined);
    await vi.waitFor(() => expect(relayed()).toHaveLength(1), { timeout: 10_000 });
    early.abort();
    await pending;
    await vi.waitFor(() => expect(relayed()[0]!.abortedAt).toBeDefined(), { timeout: 10_000 });
    stack.ollama.behaviour = { firstTokenDelayMs: 0, tokenDelayMs: 0, pauseAfterTokens: { after: 1, ms: 60_000 } };
    const late = new AbortController();
    const stream = await stack
      .openai()
      .chat.completions.create({ model: "qwen3:4b", messages: [{ role: "user", content: "hi" }], stream: true }, { signal: late.signal });
    for await (const chunk of stream) if (chunk.choices[0]?.delta.content) break;
    late.abort();
    await vi.waitFor(() => expect(relayed()[1]!.abortedAt).toBeDefined(), { timeout: 10_000 });
    await vi.waitFor(() => expect(stack.apiLogs().at(-1)).toMatchObject({ route: "chat_completions", outcome: "cancelled" }), { timeout: 10_000 });
  });

  it("answers a body no API request has with 400, and never retries it or falls back", async () => {
    const deep = `{"model":"qwen3:4b","messages":[{"role":"user","content":"hi","x":${"[".repeat(20_000)}${"]".repeat(20_000)}}]}`;
    const nested = await fetch(`${stack.server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
      body: deep,
    });
    expect(nested.status).toBe(400);
    expect(((await nested.json()) as { error: { message: string } }).error.message).toBe(
      "The request body nests deeper than 64 levels; no API request needs that.",
    );
    // A tool_result whose content is not blocks, on the way to a cloud model (translated).
    const bad = await stack
      .anthropic()
      .messages.create({
        ...ask,
        model: "openai/gpt-4o-mini",
        messages: [
          { role: "user", content: "hi" },
          { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "f", input: {} }] },
          { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: [null] as never }] },
        ],
      })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(bad).toBeInstanceOf(Anthropic.BadRequestError);
    expect((bad as Error).message).toContain("A tool_result's content is a string or a list of content blocks (objects).");
    expect(stack.cloud.chats()).toEqual([]);
    expect(stack.ollama.chats()).toEqual([]);
  });

  it("hands a route an Ollama is too old for to the fallback", async () => {
    stack.ollama.missingRoutes.add("/v1/messages");
    stack.ollama.version = "0.13.5";
    const message = await stack.anthropic().messages.create(ask);
    expect(message.content).toEqual([{ type: "text", text: "Echo from gpt-4o-mini: hi" }]);
    expect(stack.ollama.requests.map((r) => r.path)).toEqual(["/v1/messages", "/api/version"]);
    expect(stack.apiLogs().at(-1)).toMatchObject({ model: "openai/gpt-4o-mini", fellBackFrom: ["qwen3:4b"] });
  });

  it("lowers max_tokens to LLM_MAX_OUTPUT_TOKENS and says so in a header", async () => {
    const response = await stack
      .anthropic()
      .messages.create({ ...ask, max_tokens: 20_000 })
      .withResponse();
    expect(response.response.headers.get("x-mcp-lab-adjusted")).toBe("max_tokens 20000 lowered to 16384 (LLM_MAX_OUTPUT_TOKENS)");
    expect((stack.ollama.requests.at(-1)!.body as { max_tokens: number }).max_tokens).toBe(16_384);
    await stack.openai().chat.completions.create({ model: "qwen3:4b", messages: [{ role: "user", content: "x" }] });
    expect((stack.ollama.requests.at(-1)!.body as { max_tokens: number }).max_tokens).toBe(16_384);
  });
});

describe("/v1 without fallbacks", () => {
  let stack: ApiStack;
  beforeAll(async () => {
    stack = await startApiStack({ LLM_FIRST_TOKEN_TIMEOUT_MS: "300", LLM_TOTAL_TIMEOUT_MS: "400" });
  });
  afterAll(() => stack.stop());

  afterEach(() => stack.reset());

  it("names the Ollama version a route needs when the upstream is older", async () => {
    stack.ollama.missingRoutes.add("/v1/messages");
    stack.ollama.version = "0.13.5";
    const failure = await stack
      .anthropic()
      .messages.create(ask)
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(Anthropic.APIError);
    expect((failure as InstanceType<typeof Anthropic.APIError>).status).toBe(502);
    expect((failure as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: "error", error: { type: "api_error" } });
    expect((failure as Error).message).toContain(
      `Ollama at ${stack.ollama.baseUrl} is version 0.13.5 and does not serve /v1/messages, which needs Ollama 0.14.0 or newer. Upgrade Ollama there.`,
    );
    stack.ollama.missingRoutes.add("/v1/chat/completions");
    stack.ollama.version = "0.1.20";
    const old = await stack
      .openai()
      .chat.completions.create({ model: "qwen3:4b", messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect((old as Error).message).toContain("is version 0.1.20 and does not serve /v1/chat/completions, which needs Ollama 0.1.24 or newer.");
  });

  it("gives up on a silent upstream after LLM_FIRST_TOKEN_TIMEOUT_MS (streamed) or LLM_TOTAL_TIMEOUT_MS (whole), and says which", async () => {
    stack.ollama.behaviour.hang = true;
    const streamed = await stack
      .anthropic()
      .messages.stream(ask)
      .finalMessage()
      .catch((e: unknown) => e);
    expect(streamed).toBeInstanceOf(Anthropic.APIError);
    expect((streamed as InstanceType<typeof Anthropic.APIError>).status).toBe(504);
    expect((streamed as Error).message).toContain("sent no first token within 300 ms (model load included) (LLM_FIRST_TOKEN_TIMEOUT_MS)");
    const whole = await stack
      .openai(API_TOKEN)
      .chat.completions.create({ model: "qwen3:4b", messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect((whole as InstanceType<typeof OpenAI.APIError>).status).toBe(504);
    expect((whole as Error).message).toContain("did not finish within 400 ms (LLM_TOTAL_TIMEOUT_MS)");
  });
});
