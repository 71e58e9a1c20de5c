import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";
import { OllamaStandIn } from "../support/ollamaStandIn.js";
import { callTool, connectClient, startTestServer, type TestServer } from "../support/server.js";
import { until } from "../support/wait.js";

const TOKEN = "test-token-0123456789abcdef";
const OTHER = "second-token-0123456789abcdef";
const INIT = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } },
};
const MCP_HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };

describe("starting without a token", () => {
  it("refuses a non-loopback bind without MCP_AUTH_TOKEN, and says why", () => {
    expect(() => loadConfig({ HOST: "0.0.0.0" })).toThrow(/MCP_AUTH_TOKEN is required/);
    expect(() => loadConfig({ HOST: "::" })).toThrow(ConfigError);
    expect(loadConfig({ HOST: "::", MCP_ALLOW_UNAUTHENTICATED: "true" }).host).toBe("::");
    expect(loadConfig({ HOST: "::", MCP_AUTH_TOKEN: TOKEN }).security.authTokens).toEqual([TOKEN]);
    expect(loadConfig({ HOST: "127.0.0.1" }).security.authTokens).toEqual([]);
  });

  it("refuses weak tokens without echoing them", () => {
    let message = "";
    try {
      loadConfig({ MCP_AUTH_TOKEN: "short-secret" });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain("MCP_AUTH_TOKEN=(hidden) is not valid");
    expect(message).not.toContain("short-secret");
  });
});

describe("an authenticated server", () => {
  let ollama: OllamaStandIn;
  let server: TestServer;
  beforeAll(async () => {
    ollama = await new OllamaStandIn().start();
    server = await startTestServer({
      OLLAMA_BASE_URL: ollama.baseUrl,
      MCP_AUTH_TOKEN: `${TOKEN},${OTHER}`,
      ALLOWED_HOSTS: "mcp.example.com",
      ALLOWED_ORIGINS: "https://inspector.example.org",
      MAX_BODY_BYTES: "2048",
      MAX_PROMPT_CHARS: "50",
    });
  });
  afterAll(async () => {
    await server.shutdown("test over");
    await ollama.stop();
  });
  const http = () => server.http!.server;

  it("answers 401 with WWW-Authenticate on /mcp, /sse and /messages alike, and keeps /health open", async () => {
    for (const call of [
      request(http()).post("/mcp").set(MCP_HEADERS).send(INIT),
      request(http()).get("/sse"),
      request(http()).post("/messages?sessionId=x").send({}),
    ]) {
      const response = await call.expect(401);
      expect(response.headers["www-authenticate"]).toBe('Bearer realm="mcp-lab"');
      expect(response.body.error).toContain("Authorization: Bearer");
    }
    const wrong = await request(http()).post("/mcp").set(MCP_HEADERS).set("authorization", "Bearer not-the-right-token-at-all").send(INIT).expect(401);
    expect(wrong.headers["www-authenticate"]).toBe('Bearer realm="mcp-lab", error="invalid_token"');
    await request(http()).get("/health").expect(200);
  });

  it("accepts every configured token, over both transports", async () => {
    for (const [kind, token] of [
      ["streamable-http", TOKEN],
      ["sse", OTHER],
    ] as const) {
      const client = await connectClient(server.url, kind, { authorization: `Bearer ${token}` });
      expect((await callTool(client, "add", { a: 1, b: 2 })).text).toBe("3");
      await client.close();
    }
  });

  it("refuses a foreign Host or Origin with 403, and accepts loopback, configured and Railway's health-check names", async () => {
    const auth = { ...MCP_HEADERS, authorization: `Bearer ${TOKEN}` };
    const post = (headers: Record<string, string>) =>
      request(http())
        .post("/mcp")
        .set({ ...auth, ...headers })
        .send(INIT);
    expect((await post({ host: "evil.example" })).status).toBe(403);
    expect((await post({ origin: "http://evil.example" })).status).toBe(403);
    expect((await post({ origin: "null" })).status).toBe(403);
    expect((await post({ host: "localhost:8080", origin: "http://localhost:6274" })).status).toBe(200);
    expect((await post({ host: "[::1]:8080" })).status).toBe(200);
    expect((await post({ host: "mcp.example.com" })).status).toBe(200);
    expect((await post({ host: "healthcheck.railway.app" })).status).toBe(200);
    expect((await post({ origin: "https://inspector.example.org" })).status).toBe(200);
    expect((await post({ host: "evil.example" })).body.error).toContain("ALLOWED_HOSTS");
  });

  it("answers 413 to a body over MAX_BODY_BYTES", async () => {
    const big = { ...INIT, params: { ...INIT.params, padding: "x".repeat(4096) } };
    const response = await request(http())
      .post("/mcp")
      .set({ ...MCP_HEADERS, authorization: `Bearer ${TOKEN}` })
      .send(big)
      .expect(413);
    expect(response.body.error).toContain("MAX_BODY_BYTES");
  });

  it("answers 413 to a chunked body (no Content-Length) over MAX_BODY_BYTES too", async () => {
    const body = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 8; i++)
          controller.enqueue(new TextEncoder().encode(i === 0 ? '{"jsonrpc":"2.0","id":1,"method":"x","params":{"p":"' : "z".repeat(1024)));
        controller.close();
      },
    });
    const response = await fetch(`${server.url}/mcp`, {
      method: "POST",
      headers: { ...MCP_HEADERS, authorization: `Bearer ${TOKEN}` },
      body,
      duplex: "half",
    } as RequestInit);
    expect(response.status).toBe(413);
  });

  it("refuses a prompt over MAX_PROMPT_CHARS with a clear isError result", async () => {
    const client = await connectClient(server.url, "streamable-http", { authorization: `Bearer ${TOKEN}` });
    const result = await callTool(client, "ask_llm", { prompt: "y".repeat(60) });
    expect(result.isError).toBe(true);
    expect(result.text).toContain("The prompt has 60 characters; this server takes at most 50 (MAX_PROMPT_CHARS)");
    await client.close();
    expect(ollama.chats()).toHaveLength(0);
  });

  it("protects /metrics with the same tokens and exposes tool, provider and session metrics", async () => {
    const client = await connectClient(server.url, "sse", { authorization: `Bearer ${TOKEN}` });
    await callTool(client, "ask_llm", { prompt: "count me" });
    await request(http()).get("/metrics").expect(401);
    const metrics = (await request(http()).get("/metrics").set("authorization", `Bearer ${TOKEN}`).expect(200)).text;
    expect(metrics).toMatch(/mcp_tool_calls_total\{tool="ask_llm",provider="ollama",model="qwen3:4b",outcome="ok"\} 1/);
    expect(metrics).toMatch(/mcp_tool_call_duration_seconds_bucket\{le="\+Inf",tool="ask_llm",outcome="ok"\} 1/);
    expect(metrics).toMatch(/llm_tokens_total\{provider="ollama",direction="out"\} 5/);
    expect(metrics).toMatch(/llm_time_to_first_token_seconds_count\{provider="ollama"\} 1/);
    expect(metrics).toMatch(/mcp_open_sessions\{transport="sse"\} 1/);
    expect(metrics).toMatch(/llm_queue_length\{provider="ollama"\} 0/);
    expect(metrics).toMatch(/http_refused_requests_total\{status="401"\} \d+/);
    await client.close();
  });
});

describe("limits on a busy server", () => {
  let capped: TestServer;
  let limited: TestServer;
  beforeAll(async () => {
    capped = await startTestServer({ MAX_SESSIONS: "2", METRICS_TOKEN: "metrics-token-0123456789" });
    limited = await startTestServer({ RATE_LIMIT_PER_MINUTE: "3" });
  });
  afterAll(() => Promise.all([capped.shutdown("test over"), limited.shutdown("test over")]));

  it("caps open sessions across transports with 503, and serves the sessions already open", async () => {
    const first = await connectClient(capped.url, "streamable-http");
    const second = await connectClient(capped.url, "sse");
    for (const attempt of [request(capped.http!.server).post("/mcp").set(MCP_HEADERS).send(INIT), request(capped.http!.server).get("/sse")]) {
      const refused = await attempt;
      expect(refused.status).toBe(503);
      expect(refused.body.error).toContain("MAX_SESSIONS");
    }
    expect((await callTool(first, "add", { a: 1, b: 1 })).text).toBe("2");
    expect((await callTool(second, "add", { a: 2, b: 2 })).text).toBe("4");
    await Promise.all([first.close(), second.close()]);
  });

  it("rate-limits per client with 429 and Retry-After", async () => {
    const statuses = [];
    const started = Date.now();
    for (let i = 0; i < 4; i++) statuses.push(await request(limited.http!.server).post("/mcp").set(MCP_HEADERS).send(INIT));
    const elapsedMs = Date.now() - started;
    expect(statuses.slice(0, 3).map((r) => r.status)).toEqual([200, 200, 200]);
    expect(statuses[3]!.status).toBe(429);
    // 3 a minute: the next token is 20 s away, less the time these requests took (however long
    // that was on this machine). The exact arithmetic is in test/http/parts.test.ts, on a fake clock.
    const retryAfter = Number(statuses[3]!.headers["retry-after"]);
    expect(retryAfter).toBeLessThanOrEqual(20);
    expect(retryAfter).toBeGreaterThanOrEqual(Math.floor((20_000 - elapsedMs) / 1000));
    expect(statuses[3]!.body.error).toContain("RATE_LIMIT_PER_MINUTE");
  });

  it("takes METRICS_TOKEN for /metrics when one is set", async () => {
    await request(capped.http!.server).get("/metrics").expect(401);
    await request(capped.http!.server).get("/metrics").set("authorization", "Bearer metrics-token-0123456789").expect(200);
  });
});

describe("idle sessions", () => {
  it("closes streamable-HTTP sessions idle for SESSION_IDLE_TIMEOUT_MS", async () => {
    const server = await startTestServer({ SESSION_IDLE_TIMEOUT_MS: "1000" });
    try {
      const opened = await request(server.http!.server).post("/mcp").set(MCP_HEADERS).send(INIT).expect(200);
      const sessionId = opened.headers["mcp-session-id"] as string;
      expect(server.mcp.sessions.length).toBe(1);
      // Reaped after 1 s idle, at a sweep every 0.5 s (the timing itself: test/http/parts.test.ts).
      await until(() => server.mcp.sessions.length === 0, "the idle session to be closed");
      const list = { jsonrpc: "2.0", id: 2, method: "tools/list" };
      const after = await request(server.http!.server)
        .post("/mcp")
        .set({ ...MCP_HEADERS, "mcp-session-id": sessionId })
        .send(list);
      expect(after.status).toBe(404);
    } finally {
      await server.shutdown("test over");
    }
  });
});
