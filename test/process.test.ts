import { once } from "node:events";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OllamaStandIn } from "./support/ollamaStandIn.js";
import { childEnv, collect, ENTRY, spawnServer } from "./support/spawn.js";

describe("the server process", () => {
  let ollama: OllamaStandIn;
  beforeAll(async () => {
    ollama = await new OllamaStandIn().start();
  });
  afterAll(() => ollama.stop());

  it("refuses a bad configuration with exit code 2, naming each variable, before listening", async () => {
    const child = spawnServer([], { PORT: "abc", OLLAMA_BASE_URL: "nope", MCP_TRANSPORT: "carrier-pigeon", HOST: "127.0.0.1" });
    const output = collect(child);
    expect(await output.exit).toBe(2);
    expect(output.stderr()).toContain('PORT="abc" is not valid: expected a whole number');
    expect(output.stderr()).toContain('OLLAMA_BASE_URL="nope" is not valid: expected an http:// or https:// URL');
    expect(output.stderr()).toContain('MCP_TRANSPORT="carrier-pigeon" is not valid');
    expect(output.stderr()).not.toMatch(/at .*\.ts:\d+/);
    expect(output.stdout()).toBe("");
  });

  it("serves over stdio with nothing but JSON-RPC on stdout", async () => {
    const child = spawnServer(["--stdio"], { OLLAMA_BASE_URL: ollama.baseUrl, LOG_LEVEL: "debug" });
    const output = collect(child);
    const send = (message: object) => child.stdin!.write(`${JSON.stringify(message)}\n`);
    send({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } } });
    send({ jsonrpc: "2.0", method: "notifications/initialized" });
    send({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "ask_llm", arguments: { prompt: "over stdio" } } });
    while (!output.stdout().includes('"id":2')) await once(child.stdout!, "data");
    child.kill("SIGTERM");
    expect(await output.exit).toBe(0);
    const lines = output.stdout().trim().split("\n");
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ jsonrpc: "2.0" });
    expect(lines.join("\n")).toContain("Echo from qwen3:4b: over stdio");
    expect(output.stderr()).toContain('"msg":"tool call"');
  });

  it("works with the SDK's stdio client", async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [...ENTRY, "--stdio"],
      env: childEnv({ OLLAMA_BASE_URL: ollama.baseUrl }) as Record<string, string>,
      stderr: "pipe",
    });
    const client = new Client({ name: "stdio-test", version: "1" });
    await client.connect(transport);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain("ask_llm");
    const result = (await client.callTool({ name: "add", arguments: { a: 1, b: 2 } })) as { content: Array<{ text: string }> };
    expect(result.content[0]!.text).toBe("3");
    await client.close();
  });
});
