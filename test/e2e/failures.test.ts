import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { OllamaStandIn } from "../support/ollamaStandIn.js";
import { callTool, connectClient, startTestServer, type TestServer } from "../support/server.js";
import { until } from "../support/wait.js";

type Setup = { ollama: OllamaStandIn; cloud: OllamaStandIn; server: TestServer; client: Client };

async function setUp(env: Record<string, string>): Promise<Setup> {
  const ollama = await new OllamaStandIn().start();
  const cloud = await new OllamaStandIn().start();
  cloud.models.push({ ...cloud.models[0]!, name: "gpt-4o-mini" });
  const server = await startTestServer({
    OLLAMA_BASE_URL: ollama.baseUrl,
    OPENAI_BASE_URL: `${cloud.baseUrl}/v1`,
    OPENAI_API_KEY: "sk-cloud-test",
    LLM_RETRY_BASE_DELAY_MS: "20",
    ...env,
  });
  return { ollama, cloud, server, client: await connectClient(server.url, "streamable-http") };
}

async function tearDown(s: Setup): Promise<void> {
  await s.client.close();
  await s.server.shutdown("test over");
  await Promise.all([s.ollama.stop(), s.cloud.stop()]);
}

describe("retries", () => {
  let s: Setup;
  beforeAll(async () => (s = await setUp({ LLM_MAX_RETRIES: "2" })));
  afterEach(() => s.ollama.reset());
  afterAll(() => tearDown(s));

  it("retries 5xx and succeeds, saying how many retries it took", async () => {
    s.ollama.behaviour.failWith = { status: 503, error: "server busy", times: 2 };
    const result = await callTool(s.client, "ask_llm", { prompt: "hi" });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent!.retries).toBe(2);
    expect(s.ollama.chats()).toHaveLength(3);
  });

  it("honours Retry-After on 429", async () => {
    s.ollama.behaviour.failWith = { status: 429, error: "too many requests", headers: { "retry-after": "1" }, times: 1 };
    const result = await callTool(s.client, "ask_llm", { prompt: "hi" });
    expect(result.isError).toBeFalsy();
    // A lower bound only: a slow machine waits longer, never shorter. The exact wait is in test/llm/gateway/gateway.test.ts.
    const [first, second] = s.ollama.chats();
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(950);
  });

  it("does not retry other 4xx", async () => {
    s.ollama.behaviour.failWith = { status: 400, error: "invalid temperature" };
    const result = await callTool(s.client, "ask_llm", { prompt: "hi" });
    expect(result.isError).toBe(true);
    expect(result.text).toContain("invalid temperature");
    expect(s.ollama.chats()).toHaveLength(1);
  });

  it("gives up after LLM_MAX_RETRIES with the provider's message", async () => {
    s.ollama.behaviour.failWith = { status: 500, error: "model runner crashed" };
    const result = await callTool(s.client, "ask_llm", { prompt: "hi" });
    expect(result.isError).toBe(true);
    expect(result.text).toContain("model runner crashed");
    expect(s.ollama.chats()).toHaveLength(3);
  });

  it("retries a connection dropped mid-stream", async () => {
    s.ollama.behaviour.dropAfterTokens = 2;
    s.ollama.behaviour.dropOnce = true;
    const result = await callTool(s.client, "ask_llm", { prompt: "one two three" });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ answer: "Echo from qwen3:4b: one two three", retries: 1 });
  });

  it("reports an error event sent mid-stream by an OpenAI-compatible provider (status 200) clearly", async () => {
    s.cloud.behaviour.errorAfterTokens = 1;
    const result = await callTool(s.client, "ask_llm", { prompt: "hi", model: "openai/gpt-4o-mini" });
    s.cloud.reset();
    expect(result.isError).toBe(true);
    expect(result.text).toMatch(/^openai .*an error was encountered while running the model/);
  });

  it("reports an error line sent mid-stream (status 200) clearly", async () => {
    s.ollama.behaviour.errorAfterTokens = 1;
    const result = await callTool(s.client, "ask_llm", { prompt: "hi", num_ctx: 4096 });
    expect(result.isError).toBe(true);
    expect(result.text).toContain("Ollama failed mid-answer: an error was encountered while running the model");
  });
});

describe("fallback and privacy", () => {
  let s: Setup;
  beforeAll(async () => (s = await setUp({ FALLBACK_MODELS: "gemma3:12b", LLM_MAX_RETRIES: "0" })));
  afterEach(() => {
    s.ollama.reset();
    s.cloud.reset();
  });
  afterAll(() => tearDown(s));

  it("answers from the next FALLBACK_MODELS model and says which and why", async () => {
    const result = await callTool(s.client, "ask_llm", { prompt: "hi", model: "missing:7b" });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ model: "gemma3:12b", answer: "Echo from gemma3:12b: hi" });
    expect((result.structuredContent!.fellBackFrom as Array<{ model: string }>)[0]!.model).toBe("missing:7b");
    expect(result.text).toContain("answered by gemma3:12b because missing:7b failed: Model 'missing:7b' was not found");
  });

  it("never moves a local call to a cloud model not named in FALLBACK_MODELS", async () => {
    s.ollama.behaviour.failWith = { status: 500, error: "out of memory" };
    const result = await callTool(s.client, "ask_llm", { prompt: "private" });
    expect(result.isError).toBe(true);
    expect(result.text).toContain("Every model failed");
    expect(s.cloud.requests).toHaveLength(0);
  });
});

describe("LOCAL_ONLY", () => {
  let s: Setup;
  beforeAll(async () => (s = await setUp({ LOCAL_ONLY: "true", FALLBACK_MODELS: "openai/gpt-4o-mini" })));
  afterAll(() => tearDown(s));

  it("refuses cloud models before any byte leaves, in every tool, and never falls back to one", async () => {
    const asked = await callTool(s.client, "ask_llm", { prompt: "secret", model: "openai/gpt-4o-mini" });
    expect(asked.isError).toBe(true);
    expect(asked.text).toContain("LOCAL_ONLY=true: 'openai/gpt-4o-mini' would send the prompt to openai");
    const compared = await callTool(s.client, "compare_models", { prompt: "secret", models: ["qwen3:4b", "openai/gpt-4o-mini"] });
    expect(compared.isError).toBe(true);
    s.ollama.behaviour.failWith = { status: 500, error: "crashed" };
    const failed = await callTool(s.client, "ask_llm", { prompt: "secret" });
    expect(failed.isError).toBe(true);
    const listed = await callTool(s.client, "list_models", {});
    expect(listed.text).not.toContain("## openai");
    expect(s.cloud.requests).toHaveLength(0);
  });
});

describe("concurrency limit and warm-up", () => {
  let s: Setup;
  beforeAll(
    async () => (s = await setUp({ OLLAMA_CONCURRENCY: "1", LLM_QUEUE_MAX: "1", LLM_QUEUE_TIMEOUT_MS: "300", WARM_MODELS: "qwen3:4b,openai/gpt-4o-mini" })),
  );
  afterEach(() => s.ollama.reset());
  afterAll(() => tearDown(s));

  it("warmed WARM_MODELS at start with an empty generate, skipping cloud models", async () => {
    // The warm-up runs beside the start, not before it: wait for its line rather than assume it is done.
    await until(() => s.server.logs.some((l) => l.msg === "model warmed"), "the warm-up to finish");
    const warm = s.server.logs.filter((l) => l.msg === "model warmed" || String(l.msg).startsWith("WARM_MODELS"));
    expect(warm.map((l) => l.msg)).toEqual(expect.arrayContaining(["model warmed", "WARM_MODELS lists a cloud model; only Ollama models are warmed"]));
    expect(s.cloud.requests).toHaveLength(0);
  });

  it("times out a wait in the queue at LLM_QUEUE_TIMEOUT_MS while the running call holds the slot", async () => {
    const gate = s.ollama.holdAnswers();
    const first = callTool(s.client, "ask_llm", { prompt: "a" });
    await until(() => gate.waiting === 1, "the first call to hold the only slot");
    const second = await callTool(s.client, "ask_llm", { prompt: "b" });
    expect(second.isError).toBe(true);
    expect(second.text).toContain("Waited 300 ms for a free ollama slot (LLM_QUEUE_TIMEOUT_MS)");
    expect(gate.isOpen).toBe(false);
    gate.open();
    expect((await first).isError).toBeFalsy();
    expect(s.ollama.chats()).toHaveLength(1);
  });
});

describe("a full queue", () => {
  let s: Setup;
  // A queue timeout far beyond this test, so the waiting call is still queued when the next arrives.
  beforeAll(async () => (s = await setUp({ OLLAMA_CONCURRENCY: "1", LLM_QUEUE_MAX: "1", LLM_QUEUE_TIMEOUT_MS: "600000" })));
  afterEach(() => s.ollama.reset());
  afterAll(() => tearDown(s));

  it("refuses a call beyond the queue at once, while the running and the queued one still wait", async () => {
    const gate = s.ollama.holdAnswers();
    const first = callTool(s.client, "ask_llm", { prompt: "a" });
    await until(() => gate.waiting === 1, "the first call to hold the only slot");
    const second = callTool(s.client, "ask_llm", { prompt: "b" });
    await until(() => s.server.services.limiters.ollama.waiting === 1, "the second call to wait in the queue");
    const third = await callTool(s.client, "ask_llm", { prompt: "c" });
    expect(third.isError).toBe(true);
    expect(third.text).toContain("ollama is busy: 1 calls running and 1 waiting");
    // Refused without waiting for anything: the other two are still where they were.
    expect([gate.isOpen, gate.waiting, s.server.services.limiters.ollama.waiting]).toEqual([false, 1, 1]);
    gate.open();
    const results = await Promise.all([first, second]);
    expect(results.map((r) => r.isError ?? false)).toEqual([false, false]);
    expect(results[1]!.text).toContain("Echo from qwen3:4b: b");
  });
});
