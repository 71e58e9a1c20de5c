import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OllamaStandIn } from "../support/ollamaStandIn.js";
import { rawRequest } from "../support/rawHttp.js";
import { callTool, connectClient, startTestServer, type TestServer } from "../support/server.js";

const TOKEN = "limits-token-0123456789abcdef";
const MCP = { "content-type": "application/json", accept: "application/json, text/event-stream" };
const INIT = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } },
});
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe("what a token holder can grow, and what anyone can cost", () => {
  let ollama: OllamaStandIn;
  const servers: TestServer[] = [];
  const start = async (env: Record<string, string>) => {
    const server = await startTestServer({ OLLAMA_BASE_URL: ollama.baseUrl, ...env });
    servers.push(server);
    return server;
  };
  beforeAll(async () => {
    ollama = await new OllamaStandIn().start();
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.shutdown("test over")));
    await ollama.stop();
  });

  it("never puts a caller's model name into a metric label", async () => {
    const server = await start({});
    const client = await connectClient(server.url, "streamable-http");
    for (let i = 0; i < 60; i++) await callTool(client, "compare_models", { prompt: "x", models: ["qwen3:4b", `caller-chosen-${i}:1b`] });
    for (let i = 0; i < 20; i++) await callTool(client, "ask_llm", { prompt: "x", model: `gemma3:12b` });
    await client.close();
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const labels = new Set([...metrics.matchAll(/mcp_tool_calls_total\{[^}]*model="([^"]*)"/g)].map((m) => m[1]));
    expect([...labels].filter((label) => label!.includes("caller-chosen"))).toEqual([]);
    expect(labels.size).toBeLessThanOrEqual(3);
  });

  it("asks the upstream at most once per READY_CACHE_MS, and tells anonymous callers only the status", async () => {
    const server = await start({ MCP_AUTH_TOKEN: TOKEN, READY_CACHE_MS: "60000" });
    const before = ollama.requests.length;
    const answers = await Promise.all(Array.from({ length: 30 }, () => fetch(`${server.url}/ready`).then((r) => r.json())));
    expect(ollama.requests.length - before).toBe(1);
    expect(answers[0]).toEqual({ status: "ready" });
    const detailed = await (await fetch(`${server.url}/ready`, { headers: bearer(TOKEN) })).json();
    expect(detailed).toMatchObject({ status: "ready", model: "qwen3:4b", provider: "ollama", detail: expect.stringContaining("Ollama at") });
  });

  it("rate-limits by address on a server without tokens, whatever bearer a client makes up", async () => {
    const server = await start({ RATE_LIMIT_PER_MINUTE: "3" });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await rawRequest(server.http!.port, "POST", "/mcp", { ...MCP, ...bearer(`made-up-${i}`) }, INIT)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
  });

  it("limits failed logins per address, then refuses even the right token for a while", async () => {
    const server = await start({ MCP_AUTH_TOKEN: TOKEN, AUTH_FAILURES_PER_MINUTE: "3" });
    // Requests without a token are refused but are no guess: a client's OAuth discovery does not lock it out.
    for (let i = 0; i < 5; i++) expect((await rawRequest(server.http!.port, "POST", "/mcp", MCP, INIT)).status).toBe(401);
    expect((await rawRequest(server.http!.port, "POST", "/mcp", { ...MCP, ...bearer(TOKEN) }, INIT)).status).toBe(200);
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await rawRequest(server.http!.port, "POST", "/mcp", { ...MCP, ...bearer(`guess-${i}-0123456789abcdef`) }, INIT)).status);
    const locked = await rawRequest(server.http!.port, "POST", "/mcp", { ...MCP, ...bearer(TOKEN) }, INIT);
    expect(statuses).toEqual([401, 401, 401]);
    expect(locked.status).toBe(429);
    expect(locked.head).toMatch(/retry-after: \d+/i);
    expect(locked.body).toContain("AUTH_FAILURES_PER_MINUTE");
  });

  it("caps chunked bodies on /messages at MAX_BODY_BYTES like everywhere else", async () => {
    const server = await start({ MAX_BODY_BYTES: "2048" });
    const response = await fetch(`${server.url}/sse`);
    const reader = response.body!.getReader();
    let text = "";
    while (!/sessionId=[\w-]+/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
    const endpoint = /data: (\/messages\?sessionId=[\w-]+)/.exec(text)![1]!;
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"jsonrpc":"2.0","id":1,"method":"ping","params":{"p":"'));
        for (let i = 0; i < 4; i++) controller.enqueue(new TextEncoder().encode("z".repeat(1024)));
        controller.enqueue(new TextEncoder().encode('"}}'));
        controller.close();
      },
    });
    const posted = await fetch(`${server.url}${endpoint}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      duplex: "half",
    } as RequestInit);
    expect(posted.status).toBe(413);
    await reader.cancel();
  });

  it("sets socket timeouts and a connection cap, and refuses connections beyond it", async () => {
    const server = await start({ MAX_CONNECTIONS: "16" });
    const http = server.http!.server;
    expect({ headers: http.headersTimeout, request: http.requestTimeout, keepAlive: http.keepAliveTimeout, max: http.maxConnections }).toEqual({
      headers: 20_000,
      request: 60_000,
      keepAlive: 65_000,
      max: 16,
    });
    const sockets = await Promise.all(
      Array.from(
        { length: 16 },
        () =>
          new Promise<net.Socket>((resolve) => {
            const socket = net.connect(server.http!.port, "127.0.0.1", () => resolve(socket));
          }),
      ),
    );
    const extra = net.connect(server.http!.port, "127.0.0.1");
    const closed = await new Promise<boolean>((resolve) => {
      extra.on("close", () => resolve(true));
      extra.on("error", () => resolve(true));
      extra.on("connect", () => extra.write("GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n"));
      extra.on("data", () => resolve(false));
    });
    expect(closed).toBe(true);
    for (const socket of sockets) socket.destroy();
  });

  it("parses Host strictly, and accepts loopback names only on a server bound to loopback", async () => {
    const loopback = await start({ ALLOWED_HOSTS: "mcp.example.com" });
    const post = (server: TestServer, host: string, headers: Record<string, string> = {}) =>
      rawRequest(server.http!.port, "POST", "/mcp", { ...MCP, ...headers, host }, INIT).then((r) => r.status);
    expect(await post(loopback, "[::1].evil.com")).toBe(403);
    expect(await post(loopback, "localhost.evil.com")).toBe(403);
    expect(await post(loopback, "mcp.example.com.")).toBe(200);
    expect(await post(loopback, "localhost:8080")).toBe(200);
    const exposed = await start({ HOST: "0.0.0.0", MCP_AUTH_TOKEN: TOKEN, ALLOWED_HOSTS: "mcp.example.com" });
    expect(await post(exposed, "localhost:8080", bearer(TOKEN))).toBe(403);
    expect(await post(exposed, "127.0.0.1", bearer(TOKEN))).toBe(403);
    expect(await post(exposed, "mcp.example.com", bearer(TOKEN))).toBe(200);
  });
});
