import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { OllamaStandIn } from "./support/ollamaStandIn.js";
import { callTool, connectClient } from "./support/server.js";
import { startChildServer } from "./support/spawn.js";
import { until } from "./support/wait.js";

/**
 * SIGTERM to the real server process. The stand-in holds the calls' answers until the test has
 * seen what it waits for (the calls under way, the shutdown begun), so each step is about the order
 * of events, not about how long a loaded machine takes. The drain deadline itself is checked on a
 * fake clock in test/lifecycle.test.ts.
 */

describe("graceful shutdown", () => {
  let ollama: OllamaStandIn;
  beforeAll(async () => {
    ollama = await new OllamaStandIn().start();
  });
  afterEach(() => ollama.reset());
  afterAll(() => ollama.stop());

  it("on SIGTERM lets calls in flight finish, refuses new work, closes sessions and exits 0", { timeout: 120_000 }, async () => {
    // A drain deadline far beyond this test: the calls end because they finish, not because it passed.
    const { child, url, output } = await startChildServer({ OLLAMA_BASE_URL: ollama.baseUrl, SHUTDOWN_TIMEOUT_MS: "60000" });
    const mcp = await connectClient(url, "streamable-http");
    const sse = await connectClient(url, "sse");
    const gate = ollama.holdAnswers();
    const inFlight = [callTool(mcp, "ask_llm", { prompt: "slow one" }), callTool(sse, "ask_llm", { prompt: "slow two" })];
    await until(() => gate.waiting === 2, "both calls to reach the model");
    child.kill("SIGTERM");
    await until(() => output.stderr().includes('"msg":"shutting down"'), "the server to begin its shutdown");
    const refused = await fetch(`${url}/mcp`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(refused.status).toBe(503);
    expect(child.exitCode).toBeNull();
    gate.open();
    const results = await Promise.all(inFlight);
    expect(results.map((r) => r.isError ?? false)).toEqual([false, false]);
    expect(results[0]!.text).toContain("Echo from qwen3:4b: slow one");
    expect(await output.exit).toBe(0);
    expect(output.stdout()).toBe("");
    expect(output.stderr()).toContain('"msg":"stopped"');
    expect(output.stderr()).not.toContain("calls still in flight at the shutdown deadline are cancelled");
  });

  it("cancels calls still running at SHUTDOWN_TIMEOUT_MS and exits 0 (before its own backstop, which exits 1)", { timeout: 120_000 }, async () => {
    const { child, url, output } = await startChildServer({ OLLAMA_BASE_URL: ollama.baseUrl, SHUTDOWN_TIMEOUT_MS: "500" });
    const client = await connectClient(url, "streamable-http");
    // Held for the whole test: only the shutdown can end this call.
    const gate = ollama.holdAnswers();
    const stuck = callTool(client, "ask_llm", { prompt: "never" }).then(
      (r) => r,
      (e: Error) => ({ isError: true, text: e.message }),
    );
    await until(() => gate.waiting === 1, "the call to reach the model");
    child.kill("SIGTERM");
    expect(await output.exit).toBe(0);
    const ended = await stuck;
    expect(ended.isError).toBe(true);
    expect(ended.text).toContain("The server is shutting down, so this call was cancelled");
    const log = output.stderr();
    expect(log).toContain("calls still in flight at the shutdown deadline are cancelled");
    expect(log.indexOf('"msg":"shutting down"')).toBeLessThan(log.indexOf("calls still in flight at the shutdown deadline"));
    expect(log.indexOf("calls still in flight at the shutdown deadline")).toBeLessThan(log.indexOf('"msg":"stopped"'));
    await until(() => ollama.chats()[0]!.abortedAt !== undefined, "the server to abort the provider request");
    expect(gate.isOpen).toBe(false);
  });
});
