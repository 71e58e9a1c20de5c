import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { OllamaStandIn } from "../support/ollamaStandIn.js";
import { callTool, connectClient, startWithStandIn, type TestServer } from "../support/server.js";
import { connectStreamable, sleep, waitFor } from "./support.js";

/**
 * Provider faults and vanishing clients, each ending in a clear isError within a bounded time, and
 * the server serving normally afterwards: `add` answers, /health is 200, no provider slot, queue
 * entry or call in flight is left behind, and the next ask_llm succeeds.
 *
 * What test/e2e/failures.test.ts already pins down exactly is not repeated here (a 5xx retried to
 * success, Retry-After honoured once, 4xx not retried, giving up after LLM_MAX_RETRIES, one dropped
 * stream retried, an error line mid-stream), nor the client cancelling with notifications/cancelled
 * (test/e2e/longCalls.test.ts). SIGTERM with several calls in flight is test/shutdown.test.ts.
 */

const RETRIES = 2;
const FIRST_TOKEN_MS = 600;

const chatRequests = (standIn: OllamaStandIn) => standIn.requests.filter((r) => r.path === "/v1/chat/completions" || r.path === "/api/chat");

async function timed<T>(work: Promise<T>): Promise<T & { ms: number }> {
  const started = Date.now();
  const value = await work;
  return Object.assign(value as object, { ms: Date.now() - started }) as T & { ms: number };
}

describe("provider faults and vanishing clients", () => {
  let ollama: OllamaStandIn;
  let server: TestServer;
  let client: Client;
  let stop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    ({ ollama, server, client, stop } = await startWithStandIn({
      LOG_LEVEL: "info",
      LLM_MAX_RETRIES: String(RETRIES),
      LLM_RETRY_BASE_DELAY_MS: "20",
      LLM_FIRST_TOKEN_TIMEOUT_MS: String(FIRST_TOKEN_MS),
      LLM_IDLE_TIMEOUT_MS: "2000",
      LLM_CONNECT_TIMEOUT_MS: "1000",
      OLLAMA_CONCURRENCY: "2",
      LLM_QUEUE_MAX: "16",
      RATE_LIMIT_PER_MINUTE: "0",
    }));
  });
  afterEach(() => ollama.reset());
  afterAll(() => stop?.());

  /** The server still serves: nothing left running, `add` and /health answer, and a normal ask_llm succeeds. */
  async function expectStillServing(): Promise<void> {
    ollama.reset();
    const settled = await waitFor(() => server.services.inFlight.size === 0 && server.services.limiters.ollama.running === 0 && server.services.limiters.ollama.waiting === 0, 3_000);
    expect(settled, `in flight ${server.services.inFlight.size}, ollama running ${server.services.limiters.ollama.running}, waiting ${server.services.limiters.ollama.waiting}`).toBe(true);
    expect((await callTool(client, "add", { a: 20, b: 22 })).text).toBe("42");
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    const fresh = await connectClient(server.url, "sse");
    expect((await callTool(fresh, "add", { a: 1, b: 2 })).text).toBe("3");
    const asked = await callTool(fresh, "ask_llm", { prompt: "still there?" });
    expect(asked.isError, asked.text).toBeFalsy();
    expect(asked.text).toContain("Echo from qwen3:4b: still there?");
    await fresh.close();
  }

  it("refuses connections (Ollama stopped after serving): clear isError at once, and recovers when Ollama is back on its port", async () => {
    expect((await callTool(client, "ask_llm", { prompt: "warm the pool" })).isError).toBeFalsy();
    const port = ollama.port;
    await ollama.stop();
    const results = await Promise.all([1, 2, 3].map((i) => timed(callTool(client, "ask_llm", { prompt: `refused ${i}` }))));
    for (const result of results) {
      expect(result.isError).toBe(true);
      expect(result.text).toContain(`Could not reach ollama at http://127.0.0.1:${port}`);
      expect(result.text).toContain("ollama serve");
      // Three attempts with 20/40 ms backoff (plus jitter): well under a second.
      expect(result.ms).toBeLessThan(1_500);
    }
    expect((await callTool(client, "add", { a: 2, b: 2 })).text).toBe("4");
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    ollama = await new OllamaStandIn().start(port);
    await expectStillServing();
  });

  it("hangs (accepts, never answers): every call ends at LLM_FIRST_TOKEN_TIMEOUT_MS, the hung requests are closed, and the slots come back", async () => {
    ollama.behaviour.hang = true;
    // Twice as many calls as OLLAMA_CONCURRENCY: the second pair waits for slots the first pair holds.
    const results = await Promise.all([1, 2, 3, 4].map((i) => timed(callTool(client, "ask_llm", { prompt: `hang ${i}` }))));
    for (const result of results) {
      expect(result.isError).toBe(true);
      expect(result.text).toContain(`sent no first token within ${FIRST_TOKEN_MS} ms`);
      expect(result.text).toContain("LLM_FIRST_TOKEN_TIMEOUT_MS");
      expect(result.ms).toBeLessThan(2 * FIRST_TOKEN_MS + 1_000);
    }
    // Timeouts are not retried: one request per call, each closed by the server when it gave up.
    const hung = chatRequests(ollama);
    expect(hung).toHaveLength(4);
    expect(await waitFor(() => hung.every((r) => r.abortedAt !== undefined), 1_000)).toBe(true);
    await expectStillServing();
  });

  it("drops every stream mid-answer: ends after LLM_MAX_RETRIES with a clear isError", async () => {
    ollama.behaviour = { firstTokenDelayMs: 0, tokenDelayMs: 5, dropAfterTokens: 2 };
    const result = await timed(callTool(client, "ask_llm", { prompt: "one two three four" }));
    expect(result.isError).toBe(true);
    expect(result.text).toContain(`The connection to ollama at ${ollama.baseUrl} broke after 2 streamed pieces of 'qwen3:4b's answer.`);
    expect(chatRequests(ollama)).toHaveLength(RETRIES + 1);
    expect(result.ms).toBeLessThan(1_500);
    await expectStillServing();
  });

  it("answers 5xx to a burst of calls over both transports: each fails clearly, none is left holding a slot", async () => {
    ollama.behaviour.failWith = { status: 502, error: "bad gateway from the model runner" };
    const sse = await connectClient(server.url, "sse");
    const calls = Array.from({ length: 10 }, (_, i) => timed(callTool(i % 2 ? sse : client, "ask_llm", { prompt: `burst ${i}` })));
    const results = await Promise.all(calls);
    for (const result of results) {
      expect(result.isError).toBe(true);
      expect(result.text).toContain("ollama failed (502: bad gateway from the model runner)");
      expect(result.ms).toBeLessThan(3_000);
    }
    expect(chatRequests(ollama)).toHaveLength(10 * (RETRIES + 1));
    await sse.close();
    await expectStillServing();
  });

  it("answers 429 with Retry-After: waits as told between tries, then says it is rate limited", async () => {
    ollama.behaviour.failWith = { status: 429, error: "too many requests", headers: { "retry-after": "1" } };
    const result = await timed(callTool(client, "ask_llm", { prompt: "limited" }));
    expect(result.isError).toBe(true);
    expect(result.text).toContain("ollama is rate limiting requests (429: too many requests)");
    expect(chatRequests(ollama)).toHaveLength(RETRIES + 1);
    expect(result.ms).toBeGreaterThanOrEqual(RETRIES * 1_000 - 50);
    expect(result.ms).toBeLessThan(RETRIES * 1_000 + 1_500);
    await expectStillServing();
  });

  it("answers 429 with a Retry-After of an hour: fails at once rather than holding the call for an hour", async () => {
    ollama.behaviour.failWith = { status: 429, error: "quota exhausted", headers: { "retry-after": "3600" } };
    const result = await timed(callTool(client, "ask_llm", { prompt: "limited" }));
    expect(result.isError).toBe(true);
    expect(result.text).toContain("rate limiting requests (429: quota exhausted)");
    expect(chatRequests(ollama)).toHaveLength(1);
    expect(result.ms).toBeLessThan(1_000);
    await expectStillServing();
  });

  describe("the client vanishes mid-call (no notifications/cancelled, the connection just goes)", () => {
    async function slowCallThenVanish(vanish: () => Promise<void>, call: Promise<unknown>): Promise<{ abortedAfterMs: number | undefined }> {
      ollama.behaviour = { firstTokenDelayMs: 0, tokenDelayMs: 100 };
      ollama.reply = () => ({ content: "tick ".repeat(60) });
      void call.catch(() => undefined);
      expect(await waitFor(() => chatRequests(ollama).length === 1, 3_000)).toBe(true);
      await sleep(300);
      const vanishedAt = Date.now();
      await vanish();
      const request = chatRequests(ollama)[0]!;
      await waitFor(() => request.abortedAt !== undefined, 3_000);
      ollama.reply = (c) => ({ content: `Echo from ${c.model}: ${c.messages.at(-1)?.content}` });
      return { abortedAfterMs: request.abortedAt === undefined ? undefined : request.abortedAt - vanishedAt };
    }

    it("streamable HTTP: the client closes its transport (its fetch is aborted), and the provider request is aborted", async () => {
      const { client: leaving, transport } = await connectStreamable(server.url);
      const call = leaving.callTool({ name: "ask_llm", arguments: { prompt: "count slowly" } });
      const { abortedAfterMs } = await slowCallThenVanish(() => transport.close(), call);
      expect(abortedAfterMs, "the provider request was never aborted: Ollama would go on generating for a client that is gone").toBeDefined();
      expect(abortedAfterMs!).toBeLessThan(1_000);
      await expectStillServing();
    });

    it("streamable HTTP, raw: the POST carrying tools/call is aborted mid-stream, and the provider request is aborted", async () => {
      const { transport } = await connectStreamable(server.url);
      const sessionId = transport.sessionId!;
      const controller = new AbortController();
      const body = JSON.stringify({ jsonrpc: "2.0", id: 99, method: "tools/call", params: { name: "ask_llm", arguments: { prompt: "count slowly" } } });
      const call = fetch(`${server.url}/mcp`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-session-id": sessionId, "mcp-protocol-version": "2025-06-18" },
        body,
        signal: controller.signal,
      }).then((response) => response.text());
      const { abortedAfterMs } = await slowCallThenVanish(async () => controller.abort(), call);
      expect(abortedAfterMs, "the provider request was never aborted: Ollama would go on generating for a client that is gone").toBeDefined();
      expect(abortedAfterMs!).toBeLessThan(1_000);
      await transport.terminateSession();
      await transport.close();
      await expectStillServing();
    });

    it("legacy SSE: the client closes its event stream, and the provider request is aborted", async () => {
      const leaving = await connectClient(server.url, "sse");
      const call = leaving.callTool({ name: "ask_llm", arguments: { prompt: "count slowly" } });
      const { abortedAfterMs } = await slowCallThenVanish(() => leaving.close(), call);
      expect(abortedAfterMs, "the provider request was never aborted: Ollama would go on generating for a client that is gone").toBeDefined();
      expect(abortedAfterMs!).toBeLessThan(1_000);
      expect(await waitFor(() => server.services.sseStreams.open === 0, 2_000)).toBe(true);
      await expectStillServing();
    });
  });
});
