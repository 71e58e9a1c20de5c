import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OllamaStandIn } from "../support/ollamaStandIn.js";
import { startTestServer, type TestServer } from "../support/server.js";

const HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };

async function post(url: string, body: object, sessionId?: string): Promise<{ text: string; sessionId: string | null }> {
  const response = await fetch(`${url}/mcp`, {
    method: "POST",
    headers: { ...HEADERS, ...(sessionId && { "mcp-session-id": sessionId, "mcp-protocol-version": "2025-06-18" }) },
    body: JSON.stringify(body),
  });
  return { text: await response.text(), sessionId: response.headers.get("mcp-session-id") };
}

describe("the streamable HTTP listener", () => {
  let ollama: OllamaStandIn;
  let server: TestServer;
  beforeAll(async () => {
    ollama = await new OllamaStandIn().start();
    server = await startTestServer({ OLLAMA_BASE_URL: ollama.baseUrl });
  });
  afterAll(async () => {
    await server?.shutdown("test");
    await ollama?.stop();
  });

  it("keeps no event store: responses carry no event ids, so no session hoards its past messages", async () => {
    const init = await post(server.url, {
      jsonrpc: "2.0",
      id: 0,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } },
    });
    expect(init.sessionId).toBeTruthy();
    await post(server.url, { jsonrpc: "2.0", method: "notifications/initialized" }, init.sessionId!);
    const call = await post(
      server.url,
      { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "ask_llm", arguments: { prompt: "hello" }, _meta: { progressToken: 7 } } },
      init.sessionId!,
    );
    expect(call.text).toContain("notifications/progress");
    expect(call.text).toContain("Echo from qwen3:4b: hello");
    expect(`${init.text}\n${call.text}`).not.toMatch(/^id:/m);
  });
});
