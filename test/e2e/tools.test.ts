import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { OllamaStandIn } from "../support/ollamaStandIn.js";
import { closedPortUrl } from "../support/ports.js";
import { callTool, connectClient, startTestServer, startWithStandIn, type TestServer, type TransportKind } from "../support/server.js";

const OPENAI_KEY = "sk-test-0123456789abcdef";

describe.each<TransportKind>(["streamable-http", "sse"])("tools over %s", (kind) => {
  let ollama: OllamaStandIn;
  let server: TestServer;
  let client: Client;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    // The stand-in plays the cloud provider too, on its /v1.
    const env = (standIn: OllamaStandIn) => ({ OPENAI_BASE_URL: `${standIn.baseUrl}/v1`, OPENAI_API_KEY: OPENAI_KEY, LLM_MODEL: "qwen3:4b" });
    ({ ollama, server, client, stop } = await startWithStandIn(env, kind));
    ollama.models.push({ ...ollama.models[0]!, name: "gpt-4o-mini" }, { ...ollama.models[0]!, name: "hf.co/unsloth/Qwen3-4B-GGUF:Q4_K_M" });
  });
  afterEach(() => ollama.reset());
  afterAll(() => stop());

  it("lists every tool with a description and an input schema", async () => {
    const { tools } = await client.listTools();
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    expect(Object.keys(byName).sort()).toEqual([
      "add",
      "add_document",
      "ask_docs",
      "ask_llm",
      "cancel_job",
      "compare_models",
      "get_document",
      "get_job",
      "list_jobs",
      "list_models",
      "list_sections",
      "model_info",
      "pull_model",
      "search_docs",
    ]);
    expect(byName.ask_llm!.description).toMatch(/local Ollama model/);
    expect(byName.ask_llm!.inputSchema.required).toEqual(["prompt"]);
    expect(Object.keys(byName.ask_llm!.inputSchema.properties ?? {})).toEqual([
      "prompt",
      "model",
      "system",
      "temperature",
      "max_tokens",
      "think",
      "show_thinking",
      "num_ctx",
      "keep_alive",
      "conversation_id",
      "background",
    ]);
    for (const tool of tools) expect(tool.description!.length, tool.name).toBeGreaterThan(60);
  });

  it("adds two numbers", async () => {
    const result = await callTool(client, "add", { a: 2, b: 40 });
    expect(result.isError).toBeFalsy();
    expect(result.text).toBe("42");
    expect(result.structuredContent).toEqual({ sum: 42 });
  });

  it("asks the default Ollama model and reports model, provider, tokens and latency", async () => {
    const result = await callTool(client, "ask_llm", { prompt: "hello there" });
    expect(result.isError).toBeFalsy();
    expect(result.text).toContain("Echo from qwen3:4b: hello there");
    expect(result.structuredContent).toMatchObject({
      answer: "Echo from qwen3:4b: hello there",
      model: "qwen3:4b",
      provider: "ollama",
      promptTokens: 2,
      completionTokens: 5,
    });
    expect(result.structuredContent!.latencyMs).toEqual(expect.any(Number));
    // Every Ollama call goes to its native API.
    expect(ollama.requests.filter((r) => r.path.startsWith("/v1/"))).toEqual([]);
    const sent = ollama.chats()[0]!.body as Record<string, unknown>;
    expect(sent).toMatchObject({ model: "qwen3:4b", stream: true });
  });

  it("passes system prompt, temperature and max_tokens through", async () => {
    await callTool(client, "ask_llm", { prompt: "p", model: "gemma3:12b", system: "be brief", temperature: 0.2, max_tokens: 64 });
    const sent = ollama.chats()[0]!.body as Record<string, unknown>;
    expect(sent).toMatchObject({
      model: "gemma3:12b",
      options: { temperature: 0.2, num_predict: 64 },
      messages: [
        { role: "system", content: "be brief" },
        { role: "user", content: "p" },
      ],
    });
  });

  it("keeps a name:tag whole, slashes and all", async () => {
    const result = await callTool(client, "ask_llm", { prompt: "hi", model: "hf.co/unsloth/Qwen3-4B-GGUF:Q4_K_M" });
    expect(result.isError).toBeFalsy();
    const sent = ollama.chats()[0]!.body as { model: string };
    expect(sent.model).toBe("hf.co/unsloth/Qwen3-4B-GGUF:Q4_K_M");
  });

  it("routes openai/ models to the OpenAI-compatible provider with the key", async () => {
    const result = await callTool(client, "ask_llm", { prompt: "cloud?", model: "openai/gpt-4o-mini" });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ provider: "openai", model: "openai/gpt-4o-mini" });
    // The OpenAI-compatible provider (OPENAI_BASE_URL is this stand-in's /v1) always uses /v1.
    const sent = ollama.requests.find((r) => r.path === "/v1/chat/completions")!;
    expect((sent.body as { model: string }).model).toBe("gpt-4o-mini");
    expect(sent.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
  });

  it("says how to pull a model Ollama lacks", async () => {
    const result = await callTool(client, "ask_llm", { prompt: "hi", model: "llama9:70b" });
    expect(result.isError).toBe(true);
    expect(result.text).toContain("Model 'llama9:70b' was not found on ollama");
    expect(result.text).toContain("ollama pull llama9:70b");
    expect(result.structuredContent).toMatchObject({ error: { kind: "model_not_found", model: "llama9:70b" } });
  });

  it("refuses odd model names before any request", async () => {
    for (const model of ["../x", "a".repeat(500), "qwen\u0000:4b", "x/../y"]) {
      const result = await client
        .callTool({ name: "ask_llm", arguments: { prompt: "hi", model } })
        .catch((e: Error) => ({ isError: true, content: [{ type: "text", text: e.message }] }));
      expect(result.isError, model).toBe(true);
    }
    expect(ollama.chats()).toEqual([]);
  });

  it("lists installed Ollama models with their details", async () => {
    const result = await callTool(client, "list_models", { provider: "ollama" });
    expect(result.isError).toBeFalsy();
    expect(result.text).toContain("- qwen3:4b (4.0B, Q4_K_M, qwen3, 2.5 GB)");
    const providers = result.structuredContent!.providers as Array<{ provider: string; models: Array<Record<string, unknown>> }>;
    expect(providers[0]!.models[0]).toEqual({
      name: "qwen3:4b",
      provider: "ollama",
      sizeBytes: 2_497_293_931,
      parameterSize: "4.0B",
      quantization: "Q4_K_M",
      family: "qwen3",
      digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    });
  });

  it("lists both providers and caches the listing briefly", async () => {
    const result = await callTool(client, "list_models", {});
    expect(result.text).toContain("## ollama");
    expect(result.text).toContain("- openai/gpt-4o-mini");
    await callTool(client, "list_models", {});
    expect(ollama.requests.filter((r) => r.path === "/api/tags").length).toBeLessThanOrEqual(1);
  });

  it("logs one line per tool call, without the API key", async () => {
    const before = server.logs.length;
    await callTool(client, "ask_llm", { prompt: "log me", model: "openai/gpt-4o-mini" });
    await callTool(client, "ask_llm", { prompt: "log me", model: "missing:1b" });
    const lines = server.logs.slice(before).filter((line) => line.msg === "tool call");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ tool: "ask_llm", provider: "openai", model: "openai/gpt-4o-mini", promptTokens: 2, completionTokens: 5, outcome: "ok" });
    expect(lines[0]!.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines[0]!.latencyMs).toEqual(expect.any(Number));
    expect(lines[1]).toMatchObject({ tool: "ask_llm", provider: "ollama", model: "missing:1b", outcome: "error", errorKind: "model_not_found" });
    expect(JSON.stringify(server.logs)).not.toContain(OPENAI_KEY);
  });

  it("rejects a call without a prompt as invalid params", async () => {
    await expect(client.callTool({ name: "ask_llm", arguments: {} })).rejects.toThrow(/-32602|prompt/i);
  });
});

describe("tools when things are missing", () => {
  let server: TestServer;
  let client: Client;
  let closedPort: string;

  beforeAll(async () => {
    closedPort = await closedPortUrl();
    server = await startTestServer({ OLLAMA_BASE_URL: closedPort, OPENAI_API_KEY: "" });
    client = await connectClient(server.url, "streamable-http");
  });
  afterAll(async () => {
    await client.close();
    await server.shutdown("test over");
  });

  it("names the Ollama URL it tried and how to start Ollama", async () => {
    const result = await callTool(client, "ask_llm", { prompt: "hi" });
    expect(result.isError).toBe(true);
    expect(result.text).toContain(`Could not reach ollama at ${closedPort} (ECONNREFUSED)`);
    expect(result.text).toContain("ollama serve");
  });

  it("never shows a password in OLLAMA_BASE_URL (an Ollama behind a proxy with basic auth)", async () => {
    const withPassword = closedPort.replace("http://", "http://ollama:pr0xy-pass-1234@");
    const other = await startTestServer({ OLLAMA_BASE_URL: withPassword, OPENAI_API_KEY: "" });
    try {
      const asker = await connectClient(other.url, "streamable-http");
      const result = await callTool(asker, "ask_llm", { prompt: "hi" });
      await asker.close();
      expect(result.isError).toBe(true);
      expect(result.text).toContain("Could not reach ollama at http://ollama:");
      const ready = await (await fetch(`${other.url}/ready`)).text();
      for (const seen of [result.text, ready, JSON.stringify(other.logs)]) expect(seen).not.toContain("pr0xy-pass-1234");
    } finally {
      await other.shutdown("test over");
    }
  });

  it("says which variable to set for OpenAI", async () => {
    const result = await callTool(client, "ask_llm", { prompt: "hi", model: "openai/gpt-4o-mini" });
    expect(result.isError).toBe(true);
    expect(result.text).toContain("OPENAI_API_KEY is not set");
  });

  it("fails list_models as a whole only when every provider fails", async () => {
    const result = await callTool(client, "list_models", {});
    expect(result.isError).toBe(true);
    expect(result.text).toContain("ollama: Could not reach ollama");
    expect(result.text).toContain("openai: OPENAI_API_KEY is not set");
  });
});
