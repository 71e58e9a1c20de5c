import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OllamaStandIn } from "../support/ollamaStandIn.js";
import { rawRequest } from "../support/rawHttp.js";
import { callTool, connectClient, startTestServer, type TestServer } from "../support/server.js";

const ALICE = "alice-token-0123456789abcdef";
const BOB = "bob-token-0123456789abcdefgh";
const CAROL = "carol-token-0123456789abcdef";
const DAVE = "dave-token-0123456789abcdefg";
const MCP = { "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-protocol-version": "2025-06-18" };
const as = (token: string) => ({ authorization: `Bearer ${token}` });

async function openStreamable(url: string, token: string): Promise<string> {
  const init = {
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } },
  };
  const response = await fetch(`${url}/mcp`, { method: "POST", headers: { ...MCP, ...as(token) }, body: JSON.stringify(init) });
  await response.text();
  const id = response.headers.get("mcp-session-id")!;
  await fetch(`${url}/mcp`, {
    method: "POST",
    headers: { ...MCP, ...as(token), "mcp-session-id": id },
    body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
  });
  return id;
}

/** Opens an SSE stream and returns its session id and a way to close it. */
async function openSse(url: string, token: string): Promise<{ id: string; ended: Promise<void>; close(): void }> {
  const controller = new AbortController();
  const response = await fetch(`${url}/sse`, { headers: as(token), signal: controller.signal });
  if (response.status !== 200) throw new Error(`GET /sse answered ${response.status}`);
  const reader = response.body!.getReader();
  let text = "";
  while (!/sessionId=([\w-]+)/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the SSE stream ended before its endpoint event");
    text += new TextDecoder().decode(value);
  }
  const ended = (async () => {
    try {
      while (!(await reader.read()).done);
    } catch {
      // aborted by close()
    }
  })();
  return { id: /sessionId=([\w-]+)/.exec(text)![1]!, ended, close: () => controller.abort() };
}

describe("callers are kept apart", () => {
  let ollama: OllamaStandIn;
  let server: TestServer;
  beforeAll(async () => {
    ollama = await new OllamaStandIn().start();
    server = await startTestServer({
      OLLAMA_BASE_URL: ollama.baseUrl,
      MCP_AUTH_TOKEN: `${ALICE},${BOB},${CAROL},${DAVE}`,
      MAX_SESSIONS_PER_TOKEN: "3",
      SESSION_IDLE_TIMEOUT_MS: "60000",
    });
  });
  afterAll(async () => {
    await server.shutdown("test over");
    await ollama.stop();
  });

  it("answers another token's streamable session id as if it did not exist, and leaves the session alone", async () => {
    const id = await openStreamable(server.url, ALICE);
    const call = JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "add", arguments: { a: 1, b: 2 } } });
    const headers = { ...MCP, ...as(BOB), "mcp-session-id": id };
    const unknown = await rawRequest(server.http!.port, "POST", "/mcp", { ...MCP, ...as(BOB), "mcp-session-id": "00000000-0000-4000-8000-000000000000" }, call);
    const stolen = await rawRequest(server.http!.port, "POST", "/mcp", headers, call);
    expect(stolen.status).toBe(unknown.status);
    expect(stolen.body).toBe(unknown.body);
    expect((await rawRequest(server.http!.port, "GET", "/mcp", headers)).status).toBe(404);
    expect((await rawRequest(server.http!.port, "DELETE", "/mcp", headers)).status).toBe(404);
    const own = await rawRequest(server.http!.port, "POST", "/mcp", { ...MCP, ...as(ALICE), "mcp-session-id": id }, call);
    expect(own.status).toBe(200);
    expect(own.body).toContain('"text":"3"');
  });

  it("answers a post into another token's SSE session as if the session did not exist", async () => {
    const stream = await openSse(server.url, ALICE);
    const message = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" });
    const stolen = await rawRequest(server.http!.port, "POST", `/messages?sessionId=${stream.id}`, { "content-type": "application/json", ...as(BOB) }, message);
    const unknown = await rawRequest(server.http!.port, "POST", "/messages?sessionId=nope", { "content-type": "application/json", ...as(BOB) }, message);
    expect(stolen.status).toBe(400);
    expect(stolen.body).toBe(unknown.body);
    expect(
      (await rawRequest(server.http!.port, "POST", `/messages?sessionId=${stream.id}`, { "content-type": "application/json", ...as(ALICE) }, message)).status,
    ).toBe(202);
    stream.close();
  });

  it("keeps a conversation to the token that started it", async () => {
    const alice = await connectClient(server.url, "streamable-http", as(ALICE));
    const bob = await connectClient(server.url, "streamable-http", as(BOB));
    const first = await callTool(alice, "ask_llm", { prompt: "my secret plan" });
    const id = first.structuredContent!.conversationId as string;
    const sent = ollama.requests.length;
    const stolen = await callTool(bob, "ask_llm", { prompt: "what did I say?", conversation_id: id });
    expect(stolen.isError).toBe(true);
    expect(stolen.text).toContain("is unknown or has expired");
    expect(ollama.requests).toHaveLength(sent);
    expect((await callTool(alice, "ask_llm", { prompt: "go on", conversation_id: id })).isError).toBeFalsy();
    await alice.close();
    await bob.close();
  });

  it("caps the sessions one token holds, while other tokens still get theirs", async () => {
    const streams = [await openSse(server.url, CAROL), await openSse(server.url, CAROL), await openSse(server.url, CAROL)];
    const fourth = await fetch(`${server.url}/sse`, { headers: as(CAROL) });
    expect(fourth.status).toBe(429);
    expect(((await fourth.json()) as { error: string }).error).toContain("MAX_SESSIONS_PER_TOKEN");
    const other = await openSse(server.url, ALICE);
    other.close();
    for (const stream of streams) stream.close();
  });

  it("closes SSE sessions that stay idle, however often the server pings them", async () => {
    const stream = await openSse(server.url, DAVE);
    const sessions = server.services.sessions;
    await sessions.sweep(Date.now() + 30_000);
    expect(sessions.ownerOf(stream.id)).toBeDefined();
    expect(await sessions.sweep(Date.now() + 61_000)).toBeGreaterThanOrEqual(1);
    await stream.ended;
    expect(sessions.ownerOf(stream.id)).toBeUndefined();
    const post = await rawRequest(
      server.http!.port,
      "POST",
      `/messages?sessionId=${stream.id}`,
      { "content-type": "application/json", ...as(DAVE) },
      JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }),
    );
    expect(post.status).toBe(400);
  });
});
