import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NGINX_SKIP, type Nginx, nginxBin, startNginx } from "../support/nginx.js";
import { OllamaStandIn } from "../support/ollamaStandIn.js";
import { callTool } from "../support/server.js";
import { type ChildServer, connectStreamable, startChildServer, stopChild, until } from "./support.js";

/**
 * Two server processes with MCP_STATELESS=true behind nginx as a round-robin load balancer, over
 * streamable HTTP: one client session's calls are spread over both replicas and every one succeeds.
 *
 * nginx is not installed by this test (test/support/nginx.ts starts it). Without `nginx` on PATH (or
 * in /usr/sbin) the suite is skipped with a warning; scripts/install-test-deps.sh installs it.
 */

const NGINX = nginxBin();
const TITLE = NGINX ? "two stateless replicas behind nginx" : `two stateless replicas behind nginx — SKIPPED: ${NGINX_SKIP}`;
if (!NGINX) console.warn(`test/scale/replicas.test.ts: SKIPPED: ${NGINX_SKIP}`);

describe.skipIf(!NGINX)(TITLE, () => {
  let ollama: OllamaStandIn | undefined;
  const replicas: ChildServer[] = [];
  let nginx: Nginx | undefined;
  let url = "";

  async function stopAll(): Promise<void> {
    try {
      await nginx?.stop();
    } finally {
      nginx = undefined;
      await Promise.all(replicas.splice(0).map((replica) => stopChild(replica.child)));
      await ollama?.stop();
      ollama = undefined;
    }
  }

  beforeAll(async () => {
    try {
      ollama = await new OllamaStandIn().start();
      ollama.behaviour = { firstTokenDelayMs: 0, tokenDelayMs: 2 };
      const env = { OLLAMA_BASE_URL: ollama.baseUrl, MCP_STATELESS: "true", LOG_LEVEL: "info", RATE_LIMIT_PER_MINUTE: "0", PROGRESS_INTERVAL_MS: "100" };
      replicas.push(...(await Promise.all([startChildServer(env), startChildServer(env)])));

      nginx = await startNginx(replicas.map((r) => r.port));
      url = nginx.url;
    } catch (error) {
      await stopAll();
      throw error;
    }
  }, 150_000);

  afterAll(() => stopAll(), 30_000);

  const toolCallLines = (replica: ChildServer) =>
    replica.output
      .stderr()
      .split("\n")
      .filter((line) => line.includes('"msg":"tool call"'));

  it("spreads one client session's calls over both replicas, and every call succeeds", { timeout: 60_000 }, async () => {
    const { client, transport } = await connectStreamable(url);
    try {
      const adds = [];
      for (let i = 0; i < 50; i++) adds.push(await callTool(client, "add", { a: i, b: 1000 }));
      expect(adds.map((r) => r.isError ?? false)).toEqual(new Array(50).fill(false));
      expect(adds.map((r) => r.text)).toEqual(Array.from({ length: 50 }, (_, i) => String(i + 1000)));

      const asks = [];
      for (let i = 0; i < 10; i++) asks.push(await callTool(client, "ask_llm", { prompt: `replica ${i}` }));
      for (const [i, asked] of asks.entries()) {
        expect(asked.isError, asked.text).toBeFalsy();
        expect(asked.text).toContain(`Echo from qwen3:4b: replica ${i}`);
      }

      // Progress streams through nginx as it happens (proxy_buffering off), not in one lump at the
      // end: the stand-in holds the answer until two heartbeats have reached the client.
      const gate = ollama!.holdAnswers();
      let progress = 0;
      const slow = client.callTool({ name: "ask_llm", arguments: { prompt: "slow through the proxy" } }, undefined, { onprogress: () => void progress++ });
      await until(() => progress >= 2, "two progress notifications through nginx while the stand-in holds the answer");
      expect(gate.isOpen).toBe(false);
      gate.open();
      expect((await slow).isError).toBeFalsy();
    } finally {
      await transport.close().catch(() => undefined);
    }

    // Each replica logs a call after answering it: wait for the last lines.
    await until(() => replicas.flatMap(toolCallLines).length === 61, "both replicas to log their tool calls");
    const [first, second] = replicas.map(toolCallLines);
    const counts = `replica 1 logged ${first!.length} tool calls, replica 2 ${second!.length}`;
    expect(first!.length + second!.length, counts).toBe(61);
    expect(first!.length, counts).toBeGreaterThanOrEqual(10);
    expect(second!.length, counts).toBeGreaterThanOrEqual(10);
    expect(
      [...first!, ...second!].every((line) => line.includes('"outcome":"ok"')),
      counts,
    ).toBe(true);
    console.info(`replicas: ${counts}`);
  });
});
