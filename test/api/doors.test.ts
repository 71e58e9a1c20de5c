import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { API_TOKEN, type ApiStack, CLOUD_KEY, startApiStack } from "../support/apiStack.js";
import { rawRequest } from "../support/rawHttp.js";

/** /v1 behind the same doors as /mcp: tokens, Host, limits, LOCAL_ONLY, secrets; refusals in each API's own shape. */

const SECOND_TOKEN = "api-second-token-fedcba9876543210";
const THIRD_TOKEN = "api-third-token-0f1e2d3c4b5a6978";
const ask = { model: "qwen3:4b", max_tokens: 50, messages: [{ role: "user" as const, content: "hi" }] };
const JSON_HEADERS = { "content-type": "application/json", "anthropic-version": "2023-06-01" };

/** The JSON body of a raw answer, chunked or not. */
function bodyOf(raw: { head: string; body: string }): { error: { type: string; message: string; code?: string } } & Record<string, unknown> {
  if (!/transfer-encoding: chunked/i.test(raw.head)) return JSON.parse(raw.body);
  let text = "";
  for (let rest = raw.body; ; ) {
    const size = Number.parseInt(rest, 16);
    if (!size) return JSON.parse(text);
    const start = rest.indexOf("\r\n") + 2;
    text += rest.slice(start, start + size);
    rest = rest.slice(start + size + 2);
  }
}

const rejection = (promise: Promise<unknown>) =>
  promise.then(() => undefined).catch((e: unknown) => e as InstanceType<typeof OpenAI.APIError> & InstanceType<typeof Anthropic.APIError>);

describe("the doors of /v1", () => {
  let stack: ApiStack;
  beforeAll(async () => {
    stack = await startApiStack({
      MCP_AUTH_TOKEN: `${API_TOKEN},${SECOND_TOKEN},${THIRD_TOKEN}`,
      MAX_BODY_BYTES: "20000",
      MAX_PROMPT_CHARS: "5000",
      AUTH_FAILURES_PER_MINUTE: "1000",
    });
  });
  afterEach(() => stack.reset());
  afterAll(() => stack.stop());

  it("refuses no token and a wrong token in each API's own error shape", async () => {
    const openaiNone = await rawRequest(stack.server.http!.port, "GET", "/v1/models");
    expect(openaiNone.status).toBe(401);
    expect(bodyOf(openaiNone).error).toMatchObject({
      type: "invalid_request_error",
      code: "invalid_api_key",
      message: expect.stringContaining("x-api-key: <token>"),
    });
    const openaiWrong = await rejection(
      stack.openai("wrong-token-0000000000000000").chat.completions.create({ model: "qwen3:4b", messages: [{ role: "user", content: "x" }] }),
    );
    expect(openaiWrong).toBeInstanceOf(OpenAI.AuthenticationError);
    const anthropicWrong = await rejection(stack.anthropic({ apiKey: "wrong-token-0000000000000000" }).messages.create(ask));
    expect(anthropicWrong).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(anthropicWrong?.error).toEqual({ type: "error", error: { type: "authentication_error", message: "The token is not valid." } });
    const anthropicNone = await rawRequest(stack.server.http!.port, "POST", "/v1/messages", JSON_HEADERS, JSON.stringify(ask));
    expect(anthropicNone.status).toBe(401);
    expect(bodyOf(anthropicNone)).toMatchObject({ type: "error", error: { type: "authentication_error" } });
    expect(stack.ollama.requests.filter((r) => r.path.startsWith("/v1/"))).toEqual([]);
  });

  it("takes the token as Authorization: Bearer and as x-api-key, each token its own caller, and x-api-key on /v1 only", async () => {
    await stack.anthropic({ authToken: API_TOKEN }).messages.create(ask);
    await stack.anthropic({ apiKey: SECOND_TOKEN }).messages.create(ask);
    const callers = stack
      .apiLogs()
      .slice(-2)
      .map((l) => l.caller);
    expect(callers[0]).toMatch(/^token:[0-9a-f]{16}$/);
    expect(callers[1]).not.toBe(callers[0]);
    const mcp = await rawRequest(
      stack.server.http!.port,
      "POST",
      "/mcp",
      { "content-type": "application/json", accept: "application/json, text/event-stream", "x-api-key": API_TOKEN },
      "{}",
    );
    expect(mcp.status).toBe(401);
  });

  it("checks Host, body size, prompt size and the request itself, answering in the API's shape", async () => {
    const port = stack.server.http!.port;
    const auth = { ...JSON_HEADERS, "x-api-key": API_TOKEN };
    const host = await rawRequest(port, "POST", "/v1/messages", { ...auth, host: "evil.example" }, JSON.stringify(ask));
    expect([host.status, bodyOf(host).error.type]).toEqual([403, "permission_error"]);
    const big = await rawRequest(
      port,
      "POST",
      "/v1/chat/completions",
      { ...auth, authorization: `Bearer ${API_TOKEN}` },
      JSON.stringify({ model: "qwen3:4b", messages: [{ role: "user", content: "x".repeat(30_000) }] }),
    );
    expect([big.status, bodyOf(big).error.message]).toEqual([413, "The request body is larger than 20000 bytes (MAX_BODY_BYTES)."]);
    const long = await rejection(stack.anthropic().messages.create({ ...ask, messages: [{ role: "user", content: "y".repeat(6_000) }] }));
    expect(long?.status).toBe(400);
    expect(long?.message).toContain("The prompt has 6000 characters; this server takes at most 5000 (MAX_PROMPT_CHARS)");
    const noVersion = await rawRequest(port, "POST", "/v1/messages", { "content-type": "application/json", "x-api-key": API_TOKEN }, JSON.stringify(ask));
    expect(bodyOf(noVersion)).toEqual({
      type: "error",
      error: { type: "invalid_request_error", message: "anthropic-version: header is required (e.g. 2023-06-01)." },
    });
    const badJson = await rawRequest(port, "POST", "/v1/messages", auth, "{not json");
    expect([badJson.status, bodyOf(badJson).error.type]).toEqual([400, "invalid_request_error"]);
    const noTokens = await rejection(stack.anthropic().messages.create({ model: "qwen3:4b", messages: [{ role: "user", content: "x" }] } as never));
    expect(noTokens?.message).toContain("max_tokens: Invalid input");
    const unknown = await rawRequest(port, "POST", "/v1/embeddings", { ...auth, authorization: `Bearer ${API_TOKEN}` }, "{}");
    expect([unknown.status, bodyOf(unknown).error.message]).toEqual([404, expect.stringContaining("Nothing is served at /v1/embeddings")]);
    expect(stack.ollama.requests.filter((r) => r.path.startsWith("/v1/"))).toEqual([]);
  });

  it("keeps the provider's key out of answers, errors and logs, streamed or not, relayed or translated", async () => {
    stack.cloud.reply = () => ({ content: `my key is ${CLOUD_KEY} ok` });
    const seen: string[] = [];
    const anthropicWhole = await stack.anthropic().messages.create({ ...ask, model: "openai/gpt-4o-mini" });
    seen.push(JSON.stringify(anthropicWhole));
    const anthropicStream = await stack
      .anthropic()
      .messages.stream({ ...ask, model: "openai/gpt-4o-mini" })
      .finalMessage();
    seen.push(JSON.stringify(anthropicStream));
    const openaiWhole = await stack.openai().chat.completions.create({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "x" }] });
    seen.push(JSON.stringify(openaiWhole));
    const openaiStream = await stack
      .openai()
      .chat.completions.create({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "x" }], stream: true });
    for await (const chunk of openaiStream) seen.push(JSON.stringify(chunk));
    stack.cloud.behaviour.failWith = { status: 401, error: `Incorrect API key provided: ${CLOUD_KEY}` };
    const refused = await rejection(stack.anthropic().messages.create({ ...ask, model: "openai/gpt-4o-mini" }));
    seen.push(refused?.message ?? "", JSON.stringify(stack.server.logs));
    expect(anthropicWhole.content).toEqual([{ type: "text", text: "my key is (hidden) ok" }]);
    expect(refused?.status).toBe(502);
    expect(refused?.message).toContain("openai refused the credentials (401: Incorrect API key provided: (hidden)). Check OPENAI_API_KEY.");
    expect(seen.filter((text) => text.includes(CLOUD_KEY.slice(8)))).toEqual([]);
  });

  it("counts requests and tokens by route, provider and model, with no label a caller chose", async () => {
    await stack.anthropic().messages.create(ask);
    await rejection(stack.anthropic().messages.create({ ...ask, model: "made-up-model-name:1b" }));
    const metrics = await fetch(`${stack.server.url}/metrics`, { headers: { authorization: `Bearer ${API_TOKEN}` } }).then((r) => r.text());
    expect(metrics).toMatch(/api_requests_total\{route="messages",provider="ollama",model="qwen3:4b",outcome="ok"\} \d+/);
    expect(metrics).toMatch(/api_requests_total\{route="messages",provider="",model="",outcome="model_not_found"\} 1/);
    expect(metrics).toMatch(/api_tokens_total\{route="messages",provider="ollama",model="qwen3:4b",direction="out"\} \d+/);
    expect(metrics).not.toContain("made-up-model-name");
  });

  it("keeps tokens in and out per token, model and day in the state store", async () => {
    await stack.anthropic({ apiKey: THIRD_TOKEN }).messages.create(ask);
    await stack.anthropic({ apiKey: THIRD_TOKEN }).messages.stream(ask).finalMessage();
    await stack.openai(THIRD_TOKEN).chat.completions.create({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "one two" }] });
    await stack.server.services.usage.flush();
    const rows = await stack.server.services.usage.report({ days: 1, byOwner: true });
    const third = stack.apiLogs().at(-1)!.caller;
    const mine = rows.filter((row) => row.owner === third);
    // "Echo from gpt-4o-mini: one two" is 5 tokens out, 2 in; "Echo from qwen3:4b: hi" 4 out, 1 in, twice.
    expect(mine.map((row) => [row.model, row.requests, row.inputTokens, row.outputTokens])).toEqual([
      ["openai/gpt-4o-mini", 1, 2, 5],
      ["qwen3:4b", 2, 2, 8],
    ]);
    expect(mine[0]!.day).toBe(new Date().toISOString().slice(0, 10));
  });

  it("keeps a cloud model name it does not know in one usage row, so a caller cannot mint rows", async () => {
    // An OpenAI-compatible server that answers any name (llama.cpp's does).
    const cloud = stack.cloud as unknown as { find: (name: string) => unknown };
    const find = cloud.find.bind(stack.cloud);
    cloud.find = () => find("gpt-4o-mini");
    try {
      for (let i = 0; i < 5; i++)
        await stack.openai(THIRD_TOKEN).chat.completions.create({ model: `openai/made-up-${i}`, messages: [{ role: "user", content: "x" }] });
    } finally {
      cloud.find = find;
    }
    await stack.server.services.usage.flush();
    const third = stack.apiLogs().at(-1)!.caller;
    const rows = (await stack.server.services.usage.report({ days: 1, byOwner: true })).filter((row) => row.owner === third);
    expect(rows.map((row) => row.model)).not.toContain("openai/made-up-0");
    expect(rows.find((row) => row.model === "openai/other")).toMatchObject({ requests: 5 });
  });
});

describe("LOCAL_ONLY, the rate and the failed-login limit on /v1", () => {
  let stack: ApiStack;
  beforeAll(async () => {
    stack = await startApiStack({
      LOCAL_ONLY: "true",
      RATE_LIMIT_PER_MINUTE: "3",
      AUTH_FAILURES_PER_MINUTE: "2",
      MODEL_ALIASES: "claude-*=openai/gpt-4o-mini",
      MCP_AUTH_TOKEN: `${API_TOKEN},${SECOND_TOKEN}`,
    });
  });
  afterAll(() => stack.stop());

  it("refuses a cloud model, by name or through an alias, before any byte leaves", async () => {
    const named = await rejection(stack.anthropic().messages.create({ ...ask, model: "openai/gpt-4o-mini" }));
    expect(named).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect(named?.message).toContain("LOCAL_ONLY=true: 'openai/gpt-4o-mini' would send the prompt to openai, off this machine.");
    const aliased = await rejection(stack.openai().chat.completions.create({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "x" }] }));
    expect(aliased).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(stack.cloud.requests).toEqual([]);
    expect((await stack.openai().models.list()).data.map((m) => m.id)).toEqual([
      "qwen3:4b",
      "gemma3:12b",
      "deepseek-r1:14b",
      "embeddinggemma:latest",
      "nomic-embed-text:latest",
      "all-minilm:latest",
    ]);
  });

  it("limits each token's rate, then locks out an address that keeps guessing, in the API's shape", async () => {
    const client = stack.anthropic({ apiKey: SECOND_TOKEN });
    for (let i = 0; i < 3; i++) await client.messages.create(ask);
    const limited = await rejection(client.messages.create(ask));
    expect(limited).toBeInstanceOf(Anthropic.RateLimitError);
    expect(limited?.error).toMatchObject({ type: "error", error: { type: "rate_limit_error", message: expect.stringContaining("RATE_LIMIT_PER_MINUTE") } });
    expect(Number(limited?.headers?.get("retry-after"))).toBeGreaterThan(0);
    for (let i = 0; i < 2; i++) await rejection(stack.anthropic({ apiKey: `guess-${i}-000000000000000000` }).messages.create(ask));
    const locked = await rejection(stack.openai(API_TOKEN).models.list());
    expect(locked).toBeInstanceOf(OpenAI.RateLimitError);
    expect(locked?.message).toContain("Too many failed logins from this address (AUTH_FAILURES_PER_MINUTE = 2)");
  });
});
