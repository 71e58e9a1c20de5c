import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OllamaStandIn } from "./support/ollamaStandIn.js";
import { callTool, connectClient } from "./support/server.js";
import { collect, spawnServer } from "./support/spawn.js";

async function startChild(env: Record<string, string>): Promise<{ child: ChildProcess; url: string; output: ReturnType<typeof collect> }> {
  const child = spawnServer([], { PORT: "0", HOST: "127.0.0.1", ...env });
  const output = collect(child);
  const deadline = Date.now() + 10_000;
  let port: string | undefined;
  while (!port && Date.now() < deadline) {
    port = /"port":(\d+)/.exec(output.stderr())?.[1];
    if (!port) await new Promise((r) => setTimeout(r, 25));
  }
  if (!port) throw new Error(`server did not start: ${output.stderr()}`);
  return { child, url: `http://127.0.0.1:${port}`, output };
}

describe("graceful shutdown", () => {
  let ollama: OllamaStandIn;
  beforeAll(async () => {
    ollama = await new OllamaStandIn().start();
  });
  afterAll(() => ollama.stop());

  it("on SIGTERM lets calls in flight finish, refuses new work, closes sessions and exits 0", async () => {
    const { child, url, output } = await startChild({ OLLAMA_BASE_URL: ollama.baseUrl });
    const mcp = await connectClient(url, "streamable-http");
    const sse = await connectClient(url, "sse");
    ollama.behaviour = { firstTokenDelayMs: 800, tokenDelayMs: 0 };
    const inFlight = [callTool(mcp, "ask_llm", { prompt: "slow one" }), callTool(sse, "ask_llm", { prompt: "slow two" })];
    await new Promise((r) => setTimeout(r, 200));
    const signalledAt = Date.now();
    child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 100));
    const refused = await fetch(`${url}/mcp`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(refused.status).toBe(503);
    const results = await Promise.all(inFlight);
    expect(results.map((r) => r.isError ?? false)).toEqual([false, false]);
    expect(results[0]!.text).toContain("Echo from qwen3:4b: slow one");
    expect(await output.exit).toBe(0);
    // Only a guard against a hang: the calls finished above (the first also opened the state store).
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
    expect(output.stdout()).toBe("");
    expect(output.stderr()).toContain('"msg":"stopped"');
    ollama.reset();
  });

  it("cancels calls still running at SHUTDOWN_TIMEOUT_MS and exits well inside 10 s", async () => {
    const { child, url, output } = await startChild({ OLLAMA_BASE_URL: ollama.baseUrl, SHUTDOWN_TIMEOUT_MS: "500" });
    const client = await connectClient(url, "streamable-http");
    ollama.behaviour = { firstTokenDelayMs: 20_000, tokenDelayMs: 0 };
    const stuck = callTool(client, "ask_llm", { prompt: "never" }).then(
      (r) => r,
      (e: Error) => ({ isError: true, text: e.message }),
    );
    await new Promise((r) => setTimeout(r, 200));
    const signalledAt = Date.now();
    child.kill("SIGTERM");
    expect(await output.exit).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(2_500);
    const ended = await stuck;
    expect(ended.isError).toBe(true);
    expect(ended.text).toContain("The server is shutting down, so this call was cancelled");
    expect(output.stderr()).toContain("calls still in flight at the shutdown deadline are cancelled");
    ollama.reset();
  });
});
