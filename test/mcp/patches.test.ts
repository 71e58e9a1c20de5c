import { createHook } from "node:async_hooks";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { createMcpServer } from "../../src/mcp/server.js";
import { createServices } from "../../src/services/services.js";
import { createTools } from "../../src/tools/index.js";
import type { ResourceDefinition } from "../../src/tools/resource.js";
import { OllamaStandIn } from "../support/ollamaStandIn.js";
import { startTestServer } from "../support/server.js";

/**
 * Each hunk of patches/fastmcp@4.20.16.patch, tested by what it changes (the hunks that change what
 * a client sees are tested in test/e2e/protocol.test.ts: completions, the McpError prefix).
 */
describe("fastmcp as patched", () => {
  let client: Client;
  beforeAll(async () => {
    const config = loadConfig({ LOG_LEVEL: "silent" });
    const logger = createLogger("silent");
    const services = createServices(config, logger);
    const mcp = createMcpServer(createTools(config, services), {
      logger,
      metrics: services.metrics,
      inFlight: services.inFlight,
      stopping: services.stopping.signal,
      progressIntervalMs: 10_000,
    });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await mcp.connect(serverSide);
    client = new Client({ name: "t", version: "1" });
    await client.connect(clientSide);
  });
  afterAll(() => client.close());

  it("answers a tool call without waiting on a 1 ms timer first", async () => {
    await client.callTool({ name: "add", arguments: { a: 1, b: 2 } });
    const delays: number[] = [];
    const hook = createHook({
      init: (_id, type, _trigger, resource) => void (type === "Timeout" && delays.push((resource as { _idleTimeout: number })._idleTimeout)),
    }).enable();
    const result = await client.callTool({ name: "add", arguments: { a: 1, b: 2 } });
    hook.disable();
    expect(result.structuredContent).toEqual({ sum: 3 });
    expect(delays.filter((ms) => ms <= 1)).toEqual([]);
  });

  it("sets a streamable-HTTP session up when `initialize` arrives, without polling for it first", async () => {
    // Unpatched, the session polls ten times, 100 ms apart, for capabilities that only `initialize`
    // brings, which mcp-proxy holds back until the poll is over: every initialize took over a second
    // and logged that the client's capabilities could not be inferred.
    const ollama = await new OllamaStandIn().start();
    const server = await startTestServer({ OLLAMA_BASE_URL: ollama.baseUrl });
    const init = {
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: { sampling: {} }, clientInfo: { name: "t", version: "1" } },
    };
    const response = await fetch(`${server.url}/mcp`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify(init),
    });
    expect(await response.text()).toContain('"serverInfo"');
    expect(server.logs.filter((line) => String(line.msg).includes("could not infer client capabilities"))).toEqual([]);
    await server.shutdown("test over");
    await ollama.stop();
  });

  it("answers resources/list from our function at every request (what changed, a page per cursor) instead of a list fixed at start", async () => {
    const names = ["first"];
    const resource: ResourceDefinition = {
      name: "note",
      title: "Notes",
      description: "A note",
      uriTemplate: "notes://{id}",
      mimeType: "text/plain",
      list: async (_caller, cursor) =>
        cursor === undefined
          ? { resources: names.map((name) => ({ uri: `notes://${name}`, name })), nextCursor: "p2" }
          : { resources: [{ uri: "notes://last", name: "last" }] },
      read: async ({ id }) => ({ uri: `notes://${id}`, mimeType: "text/plain", text: `note ${id}` }),
      complete: async () => [],
    };
    const config = loadConfig({ LOG_LEVEL: "silent" });
    const logger = createLogger("silent");
    const services = createServices(config, logger);
    const mcp = createMcpServer(
      [],
      { logger, metrics: services.metrics, inFlight: services.inFlight, stopping: services.stopping.signal, progressIntervalMs: 10_000 },
      [resource],
    );
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await mcp.connect(serverSide);
    const browser = new Client({ name: "t", version: "1" });
    await browser.connect(clientSide);
    expect(await browser.listResources()).toEqual({ resources: [{ uri: "notes://first", name: "first" }], nextCursor: "0:p2" });
    names.push("second");
    expect((await browser.listResources()).resources.map((r) => r.name)).toEqual(["first", "second"]);
    expect(await browser.listResources({ cursor: "0:p2" })).toEqual({ resources: [{ uri: "notes://last", name: "last" }] });
    expect((await browser.readResource({ uri: "notes://abc" })).contents).toEqual([{ uri: "notes://abc", mimeType: "text/plain", text: "note abc" }]);
    await browser.close();
  });
});
