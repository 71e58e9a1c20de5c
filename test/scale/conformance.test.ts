import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectAllPassed, runScenario } from "../support/conformance.js";
import { OllamaStandIn } from "../support/ollamaStandIn.js";
import { startTestServer, type TestServer } from "../support/server.js";

/**
 * The official MCP conformance suite (@modelcontextprotocol/conformance, a devDependency) run
 * against the real server, in-process on loopback. Its CLI is spawned with this Node
 * (process.execPath) from the package's own `bin`, and each scenario's checks.json is read back.
 *
 * The scenarios chosen are the ones that fit any server. The others in `conformance list` call
 * tools, prompts and resources that only the suite's reference server has (tools-call-image,
 * prompts-get-*, resources-*, elicitation-*, ...), so they do not apply to this server.
 */

describe("the official MCP conformance suite", () => {
  let ollama: OllamaStandIn;
  let server: TestServer;
  beforeAll(async () => {
    ollama = await new OllamaStandIn().start();
    server = await startTestServer({ OLLAMA_BASE_URL: ollama.baseUrl, LOG_LEVEL: "info" });
  });
  afterAll(async () => {
    await server?.shutdown("test over");
    await ollama?.stop();
  });

  it.each(["server-initialize", "ping", "tools-list", "logging-set-level", "server-sse-multiple-streams"])("passes %s on /mcp", async (scenario) => {
    expectAllPassed(scenario, await runScenario(`${server.url}/mcp`, scenario));
  });

  it("passes dns-rebinding-protection: a foreign Host/Origin gets 4xx, a localhost one is served", async () => {
    // The scenario only runs against a localhost URL; it then sends Host/Origin evil.example.com
    // (expects 4xx: we answer 403) and Host/Origin localhost:<port> (expects 2xx).
    const run = await runScenario(`http://localhost:${server.http!.port}/mcp`, "dns-rebinding-protection");
    expectAllPassed("dns-rebinding-protection", run);
    expect(run.checks.map((check) => check.id)).toEqual(expect.arrayContaining(["localhost-host-rebinding-rejected", "localhost-host-valid-accepted"]));
  });
});
