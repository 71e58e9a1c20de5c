import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { OllamaStandIn } from "../support/ollamaStandIn.js";
import { callTool, connectClient, type Stack, startWithStandIn, type TestServer } from "../support/server.js";
import { HANG_GUARD_MS } from "../support/wait.js";
import { connectStreamable, until, waitFor } from "./support.js";

/**
 * Provider faults and vanishing clients, each ending in a clear isError, and
 * the server serving normally afterwards: `add` answers, /health is 200, no provider slot, queue
 * entry or call in flight is left behind, and the next ask_llm succeeds.
 *
 * What test/e2e/failures.test.ts already pins down exactly is not repeated here (a 5xx retried to
 * success, Retry-After honoured once, 4xx not retried, giving up after LLM_MAX_RETRIES, one dropped
 * stream retried, an error line mid-stream), nor the client cancelling with notifications/cancelled
 * (test/e2e/longCalls.test.ts). SIGTERM with several calls in flight is test/shutdown.test.ts.
 *
 * Nothing here measures wall time against an upper bound, which a busy machine could exceed: where
 * "at once" matters, the stand-in holds its answer at a gate, so only the behaviour under test can
 * end the call, and the delays the server chose are read from its log. The delays themselves are
 * checked on a fake clock in test/llm/gateway/gateway.test.ts, test/llm/streaming/streamWatch.test.ts and
 * test/llm/gateway/limiter.test.ts.
 */

const RETRIES = 2;
const FIRST_TOKEN_MS = 600;

const chatRequests = (standIn: OllamaStandIn) => standIn.chats();

/** The server set-up of these tests; `env` adds to it. The deadlines keep their defaults (minutes) unless `env` sets one. */
const startFaultStack = (env: Record<string, string> = {}) =>
  startWithStandIn({
    LOG_LEVEL: "info",
    LLM_MAX_RETRIES: String(RETRIES),
    LLM_RETRY_BASE_DELAY_MS: "20",
    LLM_CONNECT_TIMEOUT_MS: "1000",
    OLLAMA_CONCURRENCY: "2",
    LLM_QUEUE_MAX: "16",
    RATE_LIMIT_PER_MINUTE: "0",
    ...env,
  });

/**
 * The server still serves: nothing left running, `add` and /health answer, and (unless `ask` is
 * false) a normal ask_llm succeeds.
 */
async function stillServing({ ollama, server, client }: { ollama: OllamaStandIn; server: TestServer; client: Client }, ask = true): Promise<void> {
  ollama.reset();
  const settled = await waitFor(
    () => server.services.inFlight.size === 0 && server.services.limiters.ollama.running === 0 && server.services.limiters.ollama.waiting === 0,
    HANG_GUARD_MS,
  );
  expect(
    settled,
    `in flight ${server.services.inFlight.size}, ollama running ${server.services.limiters.ollama.running}, waiting ${server.services.limiters.ollama.waiting}`,
  ).toBe(true);
  expect((await callTool(client, "add", { a: 20, b: 22 })).text).toBe("42");
  expect((await fetch(`${server.url}/health`)).status).toBe(200);
  const fresh = await connectClient(server.url, "sse");
  try {
    expect((await callTool(fresh, "add", { a: 1, b: 2 })).text).toBe("3");
    if (!ask) return;
    const asked = await callTool(fresh, "ask_llm", { prompt: "still there?" });
    expect(asked.isError, asked.text).toBeFalsy();
    expect(asked.text).toContain("Echo from qwen3:4b: still there?");
  } finally {
    await fresh.close();
  }
}

describe("provider faults and vanishing clients", () => {
  let ollama: OllamaStandIn;
  let server: TestServer;
  let client: Client;
  let stop: (() => Promise<void>) | undefined;

  // Every deadline at its default (minutes): a slow machine cannot turn a fault into a timeout,
  // and a held answer is ended by the fault under test, never by a deadline.
  beforeAll(async () => {
    ({ ollama, server, client, stop } = await startFaultStack());
  });
  afterEach(() => ollama.reset());
  afterAll(() => stop?.());

  const expectStillServing = () => stillServing({ ollama, server, client });

  it("refuses connections (Ollama stopped after serving): clear isError at once, and recovers when Ollama is back on its port", async () => {
    expect((await callTool(client, "ask_llm", { prompt: "warm the pool" })).isError).toBeFalsy();
    const port = ollama.port;
    await ollama.stop();
    const logged = server.logs.length;
    const results = await Promise.all([1, 2, 3].map((i) => callTool(client, "ask_llm", { prompt: `refused ${i}` })));
    for (const result of results) {
      expect(result.isError).toBe(true);
      expect(result.text).toContain(`Could not reach ollama at http://127.0.0.1:${port}`);
      expect(result.text).toContain("ollama serve");
    }
    // Three attempts each, with the short backoff of LLM_RETRY_BASE_DELAY_MS=20: 10-20 ms, then 20-40 ms.
    const retries = server.logs.slice(logged).filter((line) => line.msg === "retrying model call");
    expect(retries).toHaveLength(3 * RETRIES);
    for (const retry of retries) expect(retry).toMatchObject({ errorKind: "unreachable", delayMs: expect.any(Number) });
    expect(Math.max(...retries.map((retry) => retry.delayMs as number))).toBeLessThanOrEqual(40);
    expect((await callTool(client, "add", { a: 2, b: 2 })).text).toBe("4");
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    ollama = await new OllamaStandIn().start(port);
    await expectStillServing();
  });

  it("drops every stream mid-answer: ends after LLM_MAX_RETRIES with a clear isError", async () => {
    ollama.behaviour = { firstTokenDelayMs: 0, tokenDelayMs: 5, dropAfterTokens: 2 };
    const result = await callTool(client, "ask_llm", { prompt: "one two three four" });
    expect(result.isError).toBe(true);
    expect(result.text).toContain(`The connection to ollama at ${ollama.baseUrl} broke after 2 streamed pieces of 'qwen3:4b's answer.`);
    expect(chatRequests(ollama)).toHaveLength(RETRIES + 1);
    await expectStillServing();
  });

  it("answers 5xx to a burst of calls over both transports: each fails clearly, none is left holding a slot", async () => {
    ollama.behaviour.failWith = { status: 502, error: "bad gateway from the model runner" };
    const sse = await connectClient(server.url, "sse");
    const calls = Array.from({ length: 10 }, (_, i) => callTool(i % 2 ? sse : client, "ask_llm", { prompt: `burst ${i}` }));
    const results = await Promise.all(calls).finally(() => sse.close());
    for (const result of results) {
      expect(result.isError).toBe(true);
      expect(result.text).toContain("ollama failed (502: bad gateway from the model runner)");
    }
    expect(chatRequests(ollama)).toHaveLength(10 * (RETRIES + 1));
    await expectStillServing();
  });

  it("answers 429 with Retry-After: waits as told between tries, then says it is rate limited", async () => {
    ollama.behaviour.failWith = { status: 429, error: "too many requests", headers: { "retry-after": "1" } };
    const logged = server.logs.length;
    const result = await callTool(client, "ask_llm", { prompt: "limited" });
    expect(result.isError).toBe(true);
    expect(result.text).toContain("ollama is rate limiting requests (429: too many requests)");
    const tries = chatRequests(ollama);
    expect(tries).toHaveLength(RETRIES + 1);
    // The delay chosen is the provider's 1 s, not a backoff of its own on top (exactly so in test/llm/gateway/gateway.test.ts)...
    const retries = server.logs.slice(logged).filter((line) => line.msg === "retrying model call");
    expect(retries.map((retry) => retry.delayMs)).toEqual(new Array(RETRIES).fill(1_000));
    // ...and it was waited: each try reached the stand-in at least 1 s after the one before (a lower bound).
    for (let i = 1; i < tries.length; i++) expect(tries[i]!.receivedAt - tries[i - 1]!.receivedAt).toBeGreaterThanOrEqual(1_000);
    await expectStillServing();
  });

  it("answers 429 with a Retry-After of an hour: fails at once rather than holding the call for an hour", async () => {
    ollama.behaviour.failWith = { status: 429, error: "quota exhausted", headers: { "retry-after": "3600" } };
    const logged = server.logs.length;
    const result = await callTool(client, "ask_llm", { prompt: "limited" });
    expect(result.isError).toBe(true);
    expect(result.text).toContain("rate limiting requests (429: quota exhausted)");
    // No second try and no wait scheduled: the call ended on the first answer.
    expect(chatRequests(ollama)).toHaveLength(1);
    expect(server.logs.slice(logged).filter((line) => line.msg === "retrying model call")).toEqual([]);
    await expectStillServing();
  });

  describe("the client vanishes mid-call (no notifications/cancelled, the connection just goes)", () => {
    /**
     * Starts a call whose answer the stand-in holds after three tokens, makes the client vanish,
     * and says whether the provider request was then aborted. Every deadline is minutes away and the
     * gate stays shut, so nothing but the client going away can close that request in the meantime.
     */
    async function slowCallThenVanish(vanish: () => Promise<void>, call: Promise<unknown>): Promise<{ aborted: boolean }> {
      const gate = ollama.holdAnswers(3);
      ollama.reply = () => ({ content: "tick ".repeat(60) });
      void call.catch(() => undefined);
      await until(() => gate.waiting === 1, "the stand-in to be mid-answer");
      await vanish();
      const request = chatRequests(ollama)[0]!;
      const aborted = await waitFor(() => request.abortedAt !== undefined, HANG_GUARD_MS);
      expect(gate.isOpen).toBe(false);
      ollama.reply = (c) => ({ content: `Echo from ${c.model}: ${c.messages.at(-1)?.content}` });
      return { aborted };
    }

    it("streamable HTTP: the client closes its transport (its fetch is aborted), and the provider request is aborted", async () => {
      const { client: leaving, transport } = await connectStreamable(server.url);
      const call = leaving.callTool({ name: "ask_llm", arguments: { prompt: "count slowly" } });
      const { aborted } = await slowCallThenVanish(() => transport.close(), call);
      expect(aborted, "the provider request was never aborted: Ollama would go on generating for a client that is gone").toBe(true);
      await expectStillServing();
    });

    it("streamable HTTP, raw: the POST carrying tools/call is aborted mid-stream, and the provider request is aborted", async () => {
      const { transport } = await connectStreamable(server.url);
      const sessionId = transport.sessionId!;
      const controller = new AbortController();
      const body = JSON.stringify({ jsonrpc: "2.0", id: 99, method: "tools/call", params: { name: "ask_llm", arguments: { prompt: "count slowly" } } });
      const call = fetch(`${server.url}/mcp`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          "mcp-session-id": sessionId,
          "mcp-protocol-version": "2025-06-18",
        },
        body,
        signal: controller.signal,
      }).then((response) => response.text());
      const { aborted } = await slowCallThenVanish(async () => controller.abort(), call);
      expect(aborted, "the provider request was never aborted: Ollama would go on generating for a client that is gone").toBe(true);
      await transport.terminateSession();
      await transport.close();
      await expectStillServing();
    });

    it("legacy SSE: the client closes its event stream, and the provider request is aborted", async () => {
      const leaving = await connectClient(server.url, "sse");
      const call = leaving.callTool({ name: "ask_llm", arguments: { prompt: "count slowly" } });
      const { aborted } = await slowCallThenVanish(() => leaving.close(), call);
      expect(aborted, "the provider request was never aborted: Ollama would go on generating for a client that is gone").toBe(true);
      expect(await waitFor(() => server.services.sseStreams.open === 0, HANG_GUARD_MS)).toBe(true);
      await expectStillServing();
    });
  });
});

describe("a provider that hangs", () => {
  let stack: Stack;
  // Its own server: the short first-token limit applies here only.
  beforeAll(async () => {
    stack = await startFaultStack({ LLM_FIRST_TOKEN_TIMEOUT_MS: String(FIRST_TOKEN_MS) });
  });
  afterAll(() => stack?.stop());

  it("hangs (accepts, never answers): every call ends at LLM_FIRST_TOKEN_TIMEOUT_MS, the hung requests are closed, and the slots come back", async () => {
    stack.ollama.behaviour.hang = true;
    // Twice as many calls as OLLAMA_CONCURRENCY: the second pair waits for slots the first pair holds.
    const provider = stack.server.services.ollama;
    const chat = provider.chat.bind(provider);
    let running = 0;
    let peak = 0;
    const spy = vi.spyOn(provider, "chat").mockImplementation(async (request) => {
      peak = Math.max(peak, ++running);
      try {
        return await chat(request);
      } finally {
        running--;
      }
    });
    const results = await Promise.all([1, 2, 3, 4].map((i) => callTool(stack.client, "ask_llm", { prompt: `hang ${i}` }))).finally(() => spy.mockRestore());
    // Never more than two at the provider at once; each of the four got its own full first-token wait (the message says so).
    expect(peak).toBe(2);
    for (const result of results) {
      expect(result.isError).toBe(true);
      expect(result.text).toContain(`sent no first token within ${FIRST_TOKEN_MS} ms`);
      expect(result.text).toContain("LLM_FIRST_TOKEN_TIMEOUT_MS");
    }
    // Timeouts are not retried: one request per call, each closed by the server when it gave up.
    const hung = chatRequests(stack.ollama);
    expect(hung).toHaveLength(4);
    expect(await waitFor(() => hung.every((r) => r.abortedAt !== undefined), HANG_GUARD_MS)).toBe(true);
    // The slots are free again (checked first thing). No ask_llm here: on this server a normal
    // answer must also come within 600 ms, which an overloaded machine could miss; the tests above
    // ask after each of their faults, with every deadline minutes away.
    await stillServing(stack, false);
  });
});
