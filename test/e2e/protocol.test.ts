import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { ListRootsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { OllamaStandIn } from "../support/ollamaStandIn.js";
import { callTool, type Stack, startWithStandIn } from "../support/server.js";
import { until } from "../support/wait.js";

const MCP = { "content-type": "application/json", accept: "application/json, text/event-stream" };
const INIT = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } },
};

describe("what real MCP clients saw", () => {
  let stack: Stack;
  let ollama: OllamaStandIn;
  beforeAll(async () => {
    stack = await startWithStandIn();
    ollama = stack.ollama;
  });
  afterEach(() => ollama.reset());
  afterAll(() => stack.stop());

  it("never asks a client that advertises roots for them", async () => {
    // Over streamable HTTP such a request goes out before the client's listening stream exists and
    // is lost; the server then logs an error a minute later. So watch the server side ask, not the client.
    const listRoots = vi.spyOn(Server.prototype, "listRoots");
    const client = new Client({ name: "inspector-like", version: "1" }, { capabilities: { roots: { listChanged: true } } });
    client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [] }));
    await client.connect(new StreamableHTTPClientTransport(new URL(`${stack.server.url}/mcp`)));
    await callTool(client, "add", { a: 1, b: 1 });
    await callTool(client, "add", { a: 2, b: 2 });
    expect(listRoots).not.toHaveBeenCalled();
    listRoots.mockRestore();
    await client.close();
  });

  it("advertises only what it serves: completions, for the document template's id (no prompts)", async () => {
    expect(stack.client.getServerCapabilities()?.completions).toEqual({});
    const completed = await stack.client.complete({
      ref: { type: "ref/resource", uri: "docs://documents/{id}" },
      argument: { name: "id", value: "nothing like it" },
    });
    expect(completed.completion.values).toEqual([]);
    await expect(stack.client.complete({ ref: { type: "ref/prompt", name: "x" }, argument: { name: "a", value: "b" } })).rejects.toThrow(/Unknown prompt/);
  });

  it("says an invalid argument once, and which values `think` takes", async () => {
    const error = await stack.client.callTool({ name: "ask_llm", arguments: { prompt: "hi", think: "maximum" } }).catch((e: Error) => e);
    const message = error instanceof Error ? error.message : JSON.stringify(error);
    expect(message).toContain('think takes true, false, "low", "medium" or "high"');
    expect(message.match(/MCP error -32602/g)).toHaveLength(1);
  });

  it("sends nothing on an SSE stream before the answer to initialize", async () => {
    const response = await fetch(`${stack.server.url}/sse`);
    const reader = response.body!.getReader();
    let text = "";
    const readUntil = async (pattern: RegExp) => {
      while (!pattern.test(text)) text += new TextDecoder().decode((await reader.read()).value);
    };
    await readUntil(/sessionId=[\w-]+/);
    const endpoint = /data: (\/messages\?sessionId=[\w-]+)/.exec(text)![1]!;
    await fetch(`${stack.server.url}${endpoint}`, { method: "POST", headers: MCP, body: JSON.stringify(INIT) });
    await readUntil(/"id":1/);
    const messages = [...text.matchAll(/event: message\ndata: (.*)/g)].map((m) => JSON.parse(m[1]!) as { id?: number; method?: string });
    expect(messages[0]).toMatchObject({ id: 1 });
    await reader.cancel();
  });

  it("ends a cancelled call's response stream at once", async () => {
    // Held until the test ends (reset opens the gate): the answer can only end by the cancel.
    const gate = ollama.holdAnswers();
    const init = await fetch(`${stack.server.url}/mcp`, { method: "POST", headers: MCP, body: JSON.stringify(INIT) });
    await init.text();
    const session = { ...MCP, "mcp-session-id": init.headers.get("mcp-session-id")!, "mcp-protocol-version": "2025-06-18" };
    await fetch(`${stack.server.url}/mcp`, { method: "POST", headers: session, body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) });
    const call = await fetch(`${stack.server.url}/mcp`, {
      method: "POST",
      headers: session,
      body: JSON.stringify({ jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "ask_llm", arguments: { prompt: "slow" } } }),
    });
    const body = call.text();
    await until(() => gate.waiting === 1, "the model call to be under way");
    await fetch(`${stack.server.url}/mcp`, {
      method: "POST",
      headers: session,
      body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 7 } }),
    });
    // On an unpatched server this stays open until the session ends, and the test times out.
    expect(await body).not.toContain('"id":7');
    expect(gate.isOpen).toBe(false);
  });

  it("shows only answer text in progress, never the model's reasoning", async () => {
    ollama.behaviour = { firstTokenDelayMs: 0, tokenDelayMs: 30 };
    ollama.reply = () => ({ content: "<think>\nsecret musing about the user\n</think>\n\nThe answer is forty-two, plainly." });
    const messages: string[] = [];
    const result = await stack.client.callTool({ name: "ask_llm", arguments: { prompt: "q" } }, undefined, {
      onprogress: (p) => void messages.push(p.message ?? ""),
    });
    expect(messages.length).toBeGreaterThan(0);
    expect(messages.join("\n")).not.toMatch(/musing|<thi|think>/);
    expect(messages[0]).toContain("thinking…");
    expect(JSON.stringify(result)).not.toContain("musing");
  });
});
