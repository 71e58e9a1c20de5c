import { afterAll, beforeAll, describe, it } from "vitest";
import { expectAllPassed, runScenario } from "../support/conformance.js";
import { type ConnectorServer, connect, startConnectorServer } from "../support/oauth.js";
import { OllamaStandIn } from "../support/ollamaStandIn.js";
import { recordingProxy } from "../support/recordingProxy.js";

/**
 * The official conformance suite has no authorization scenarios for servers (0.1.16 and
 * 0.2.0-alpha.12 list them for clients only), so the door is checked with its server scenarios:
 * run through a proxy that adds an access token this server issued (the suite sends no header).
 */
describe("the official MCP conformance suite through the connector door", () => {
  let ollama: OllamaStandIn;
  let server: ConnectorServer;
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  beforeAll(async () => {
    ollama = await new OllamaStandIn().start();
    server = await startConnectorServer({ OLLAMA_BASE_URL: ollama.baseUrl, LOG_LEVEL: "info" });
    const { tokens } = await connect(server.base);
    proxy = await recordingProxy(server.http!.port, { authorization: `Bearer ${tokens.access_token}` });
  });
  afterAll(async () => {
    await proxy?.close();
    await server?.shutdown("test over");
    await ollama?.stop();
  });

  it.each(["server-initialize", "ping", "tools-list", "logging-set-level", "server-sse-multiple-streams"])("passes %s on /connector/mcp", async (scenario) => {
    expectAllPassed(scenario, await runScenario(`${proxy.url}/connector/mcp`, scenario));
  });
});
