import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { OllamaStandIn } from "../support/ollamaStandIn.js";
import { callTool, connectClient, startTestServer, type TestServer, type TransportKind } from "../support/server.js";
import { until } from "../support/wait.js";

describe.each<TransportKind>(["streamable-http", "sse"])("model tools over %s", (kind) => {
  let ollama: OllamaStandIn;
  let cloud: OllamaStandIn;
  let server: TestServer;
  let client: Client;

  beforeAll(async () => {
    ollama = await new OllamaStandIn().start();
    cloud = await new OllamaStandIn().start();
    cloud.models.push({ ...cloud.models[0]!, name: "gpt-4o-mini" });
    server = await startTestServer({
      OLLAMA_BASE_URL: ollama.baseUrl,
      OPENAI_BASE_URL: `${cloud.baseUrl}/v1`,
      OPENAI_API_KEY: "sk-cloud-test",
      CONVERSATION_MAX_TURNS: "2",
      MAX_OUTPUT_CHARS: "300",
    });
    client = await connectClient(server.url, kind);
  });
  afterEach(() => {
    ollama.reset();
    cloud.reset();
    ollama.reply = (call) => ({ content: `Echo from ${call.model}: ${call.messages.at(-1)?.content}` });
  });
  afterAll(async () => {
    await client.close();
    await server.shutdown("test over");
    await Promise.all([ollama.stop(), cloud.stop()]);
  });

  it("compares models concurrently: all three are asked before any answers, and one failure stays its own", async () => {
    // Every answer is held until all three requests have arrived: asked one after another, the
    // second would never be sent while the first is held, and the wait below would fail.
    ollama.behaviour = { firstTokenDelayMs: 400, tokenDelayMs: 10 };
    cloud.behaviour = { firstTokenDelayMs: 400, tokenDelayMs: 10 };
    const gate = ollama.holdAnswers();
    cloud.behaviour.hold = { gate };
    const comparing = callTool(client, "compare_models", { prompt: "hi", models: ["qwen3:4b", "gemma3:12b", "openai/gpt-4o-mini", "missing:7b"] });
    await until(() => gate.waiting === 3, "all three models to be asked at once");
    gate.open();
    const result = await comparing;
    expect(result.isError).toBeFalsy();
    expect(result.text).toContain("| model | provider | first token | total | tokens/s | tokens in / out | status |");
    const rows = result.structuredContent!.results as Array<Record<string, unknown>>;
    expect(rows.map((r) => [r.model, r.ok])).toEqual([
      ["qwen3:4b", true],
      ["gemma3:12b", true],
      ["openai/gpt-4o-mini", true],
      ["missing:7b", false],
    ]);
    expect(rows[0]).toMatchObject({ provider: "ollama", answer: "Echo from qwen3:4b: hi", promptTokens: 1, completionTokens: 4 });
    expect(rows[0]!.timeToFirstTokenMs as number).toBeGreaterThanOrEqual(390);
    expect(rows[0]!.tokensPerSecond).toEqual(expect.any(Number));
    expect(rows[3]!.error).toContain("ollama pull missing:7b");
  });

  it("pulls a model with byte progress and ends with its size and digest", async () => {
    const progress: Array<{ progress: number; total?: number }> = [];
    const result = (await client.callTool({ name: "pull_model", arguments: { model: "smollm2:135m" } }, undefined, {
      onprogress: (p) => void progress.push(p),
    })) as {
      content: Array<{ text: string }>;
      structuredContent: Record<string, unknown>;
    };
    expect(result.content[0]!.text).toMatch(/^Pulled smollm2:135m: 0\.0 GB, digest sha256:[0-9a-f]{64}\.$/);
    expect(result.structuredContent).toMatchObject({ model: "smollm2:135m", status: "success", sizeBytes: 1_004_000 });
    expect(progress.length).toBeGreaterThan(3);
    expect(progress.map((p) => p.progress)).toEqual([...progress.map((p) => p.progress)].sort((a, b) => a - b));
    expect(new Set(progress.map((p) => p.progress)).size).toBe(progress.length);
    expect(progress.some((p) => p.progress === 1_004_000 && p.total === 1_004_000)).toBe(true);
    const listing = await callTool(client, "list_models", { provider: "ollama" });
    expect(listing.text).toContain("smollm2:135m");
  });

  it("reports a pull Ollama refuses as an error", async () => {
    const result = await callTool(client, "pull_model", { model: "nonexistent-model:1b" });
    expect(result.isError).toBe(true);
    expect(result.text).toContain("pull model manifest: file does not exist");
  });

  it("describes a model from /api/show", async () => {
    const result = await callTool(client, "model_info", { model: "qwen3:4b" });
    expect(result.structuredContent).toEqual({
      name: "qwen3:4b",
      contextLength: 40_960,
      parameterSize: "4.0B",
      quantization: "Q4_K_M",
      family: "qwen3",
      capabilities: ["completion", "tools", "thinking"],
    });
    expect(result.text).toContain("capabilities: completion, tools, thinking");
    expect((await callTool(client, "model_info", { model: "openai/gpt-4o-mini" })).text).toContain("Ollama models only");
  });

  it("keeps Ollama's thinking field out of the answer, and shows it only when asked", async () => {
    ollama.reply = () => ({ thinking: "The user greets me. I should greet back.", content: "Hello!" });
    const plain = await callTool(client, "ask_llm", { prompt: "hi", model: "deepseek-r1:14b", think: true });
    expect(plain.structuredContent).toMatchObject({ answer: "Hello!" });
    expect(JSON.stringify(plain)).not.toContain("greet back");
    const sent = ollama.chats()[0]!.body as Record<string, unknown>;
    expect(sent.think).toBe(true);
    const shown = await callTool(client, "ask_llm", { prompt: "hi", model: "deepseek-r1:14b", think: "high", show_thinking: true });
    expect(shown.text).toContain("<thinking>\nThe user greets me. I should greet back.\n</thinking>\n\nHello!");
    expect(shown.structuredContent).toMatchObject({ answer: "Hello!", thinking: "The user greets me. I should greet back." });
  });

  it("strips <think> tags from content, also when only </think> appears", async () => {
    ollama.reply = () => ({ content: "<think>\nweighing options\n</think>\n\nThe answer is 4." });
    const tagged = await callTool(client, "ask_llm", { prompt: "2+2", model: "qwen3:4b", show_thinking: true });
    expect(tagged.structuredContent).toMatchObject({ answer: "The answer is 4.", thinking: "weighing options" });
    ollama.reply = () => ({ content: "weighing options</think>The answer is 4." });
    const closeOnly = await callTool(client, "ask_llm", { prompt: "2+2", model: "qwen3:4b", show_thinking: true });
    expect(closeOnly.structuredContent).toMatchObject({ answer: "The answer is 4.", thinking: "weighing options" });
  });

  it("sends think:false, num_ctx and keep_alive to Ollama's native chat", async () => {
    await callTool(client, "ask_llm", { prompt: "hi", model: "qwen3:4b", think: false, num_ctx: 16_384, keep_alive: "30m", temperature: 0.1, max_tokens: 50 });
    const sent = ollama.chats()[0]!.body as Record<string, unknown>;
    expect(sent).toMatchObject({ model: "qwen3:4b", think: false, keep_alive: "30m", options: { num_ctx: 16_384, temperature: 0.1, num_predict: 50 } });
  });

  it("refuses Ollama-only options for a cloud model", async () => {
    const result = await callTool(client, "ask_llm", { prompt: "hi", model: "openai/gpt-4o-mini", num_ctx: 8192 });
    expect(result.isError).toBe(true);
    expect(result.text).toContain("num_ctx and keep_alive are Ollama options");
    expect(cloud.requests).toHaveLength(0);
  });

  it("continues a conversation by id, keeping at most CONVERSATION_MAX_TURNS turns", async () => {
    const first = await callTool(client, "ask_llm", { prompt: "one" });
    const id = first.structuredContent!.conversationId as string;
    expect(first.text).toContain(`conversation_id: ${id}`);
    await callTool(client, "ask_llm", { prompt: "two", conversation_id: id });
    const third = await callTool(client, "ask_llm", { prompt: "three", conversation_id: id });
    expect(third.structuredContent).toMatchObject({ conversationId: id, turns: 2, turnsDropped: 1 });
    const lastSent = ollama.chats().at(-1)!.body as { messages: Array<{ content: string }> };
    expect(lastSent.messages.map((m) => m.content)).toEqual(["one", "Echo from qwen3:4b: one", "two", "Echo from qwen3:4b: two", "three"]);
    const unknown = await callTool(client, "ask_llm", { prompt: "x", conversation_id: "00000000-0000-4000-8000-000000000000" });
    expect(unknown.isError).toBe(true);
    expect(unknown.text).toContain("unknown or has expired");
  });

  it("cuts answers longer than MAX_OUTPUT_CHARS and says so", async () => {
    ollama.reply = () => ({ content: "word ".repeat(200) });
    const result = await callTool(client, "ask_llm", { prompt: "long" });
    expect(result.text).toContain("[cut at 300 characters by MAX_OUTPUT_CHARS; the answer was longer]");
    expect(result.structuredContent!.truncated).toBe(true);
  });
});
