import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { OllamaStandIn } from "../support/ollamaStandIn.js";
import { callTool, startWithStandIn, type TransportKind } from "../support/server.js";

describe.each<TransportKind>(["streamable-http", "sse"])("long calls over %s", (kind) => {
  let ollama: OllamaStandIn;
  let client: Client;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    const env = { PROGRESS_INTERVAL_MS: "150", LLM_FIRST_TOKEN_TIMEOUT_MS: "1500", LLM_IDLE_TIMEOUT_MS: "400", LLM_TOTAL_TIMEOUT_MS: "3000" };
    ({ ollama, client, stop } = await startWithStandIn(env, kind));
  });
  afterEach(() => ollama.reset());
  afterAll(() => stop());

  it("sends heartbeats while the model loads, then token progress with a tail of the text", async () => {
    ollama.behaviour = { firstTokenDelayMs: 700, tokenDelayMs: 20 };
    const updates: Array<{ progress: number; message?: string; at: number }> = [];
    const started = Date.now();
    await client.callTool({ name: "ask_llm", arguments: { prompt: "tell me" } }, undefined, {
      onprogress: (p) => void updates.push({ ...p, at: Date.now() - started }),
    });
    const heartbeats = updates.filter((u) => u.message?.includes("still working"));
    expect(heartbeats.length).toBeGreaterThanOrEqual(3);
    expect(heartbeats[0]!.message).toContain("loading the model or thinking");
    expect(updates.some((u) => u.message?.includes("chars: …") || /\d+ chars: Echo/.test(u.message ?? ""))).toBe(true);
    const gaps = updates.map((u, i) => u.at - (i === 0 ? 0 : updates[i - 1]!.at));
    expect(Math.max(...gaps)).toBeLessThan(450);
    expect(updates.map((u) => u.progress)).toEqual([...updates.map((u) => u.progress)].sort((a, b) => a - b));
  });

  it("names the first-token limit when a model never starts answering", async () => {
    ollama.behaviour = { firstTokenDelayMs: 2_500, tokenDelayMs: 0 };
    const started = Date.now();
    const result = await callTool(client, "ask_llm", { prompt: "hello" });
    expect(Date.now() - started).toBeLessThan(2_300);
    expect(result.isError).toBe(true);
    expect(result.text).toContain("sent no first token within 1500 ms");
    expect(result.text).toContain("Raise LLM_FIRST_TOKEN_TIMEOUT_MS");
  });

  it("names the idle limit when a model goes silent mid-answer", async () => {
    ollama.behaviour = { firstTokenDelayMs: 0, tokenDelayMs: 0, pauseAfterTokens: { after: 2, ms: 1_000 } };
    const result = await callTool(client, "ask_llm", { prompt: "a b c d e f" });
    expect(result.isError).toBe(true);
    expect(result.text).toContain("went silent for 400 ms mid-answer (LLM_IDLE_TIMEOUT_MS)");
  });

  it("names the total limit when an answer streams on too long", async () => {
    ollama.behaviour = { firstTokenDelayMs: 0, tokenDelayMs: 300 };
    ollama.reply = () => ({ content: "slow ".repeat(20) });
    const result = await callTool(client, "ask_llm", { prompt: "go" });
    ollama.reply = (call) => ({ content: `Echo from ${call.model}: ${call.messages.at(-1)?.content}` });
    expect(result.isError).toBe(true);
    expect(result.text).toContain("did not finish within 3000 ms (LLM_TOTAL_TIMEOUT_MS)");
  });

  it("aborts the provider request at once when the client cancels", async () => {
    ollama.behaviour = { firstTokenDelayMs: 0, tokenDelayMs: 100 };
    ollama.reply = () => ({ content: "tick ".repeat(50) });
    const controller = new AbortController();
    const call = client.callTool({ name: "ask_llm", arguments: { prompt: "count" } }, undefined, { signal: controller.signal });
    while (!ollama.requests.some((r) => r.path === "/api/chat")) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 250));
    const cancelledAt = Date.now();
    controller.abort();
    await expect(call).rejects.toThrow();
    while (!ollama.requests.find((r) => r.path === "/api/chat")!.abortedAt && Date.now() - cancelledAt < 2_000) await new Promise((r) => setTimeout(r, 10));
    ollama.reply = (c) => ({ content: `Echo from ${c.model}: ${c.messages.at(-1)?.content}` });
    const aborted = ollama.requests.find((r) => r.path === "/api/chat")!.abortedAt;
    expect(aborted).toBeDefined();
    expect(aborted! - cancelledAt).toBeLessThan(300);
    expect((await callTool(client, "add", { a: 1, b: 1 })).text).toBe("2");
  });
});
