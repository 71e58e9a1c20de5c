import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Gate, type OllamaStandIn } from "../support/ollamaStandIn.js";
import { callTool, startWithStandIn, type TransportKind } from "../support/server.js";
import { until } from "../support/wait.js";

/**
 * Long calls end to end, over both transports. The stand-in holds the model's answer at a gate
 * until the test has seen what it waits for, so each check is about the order of events, never
 * about how many milliseconds they took: a busy machine cannot fail it. The timings themselves
 * (throttle, heartbeat interval) are checked on a fake clock in test/tools/progress.test.ts; the
 * deadlines are in test/e2e/deadlines.test.ts.
 */

const echo = (call: { model: string; messages: Array<{ content: string }> }) => ({ content: `Echo from ${call.model}: ${call.messages.at(-1)?.content}` });

describe.each<TransportKind>(["streamable-http", "sse"])("long calls over %s", (kind) => {
  let ollama: OllamaStandIn;
  let client: Client;
  let stop: () => Promise<void>;

  // The deadlines are the defaults (minutes away): nothing but the test ends an answer held here.
  beforeAll(async () => {
    ({ ollama, client, stop } = await startWithStandIn({ PROGRESS_INTERVAL_MS: "150" }, kind));
  });
  afterEach(() => {
    ollama.reset();
    ollama.reply = echo;
  });
  afterAll(() => stop());

  it("sends heartbeats while the model loads, then token progress with a tail of the text", async () => {
    // Two holds: before the first token (the model loading), then after two tokens (mid-answer).
    const loading = ollama.holdAnswers();
    const answering = new Gate();
    const updates: Array<{ progress: number; message?: string; phase: "loading" | "answering" | "done" }> = [];
    const phase = () => (!loading.isOpen ? "loading" : !answering.isOpen ? "answering" : "done");
    const call = client.callTool({ name: "ask_llm", arguments: { prompt: "tell me" } }, undefined, {
      onprogress: (p) => void updates.push({ ...p, phase: phase() }),
    });
    await until(() => updates.filter((u) => u.phase === "loading").length >= 3, "three heartbeats while the stand-in holds the first token");
    ollama.behaviour.hold = { gate: answering, afterTokens: 2 };
    loading.open();
    // Throttled token progress or a heartbeat naming the latest text, whichever comes first.
    const tokenProgress = (u: (typeof updates)[number]) => u.phase === "answering" && /\d+ chars: Echo from/.test(u.message ?? "");
    await until(() => updates.some(tokenProgress), "progress with a tail of the text while the stand-in holds the rest of the answer");
    answering.open();
    await call;
    const whileLoading = updates.filter((u) => u.phase === "loading");
    for (const update of whileLoading) expect(update.message).toMatch(/^qwen3:4b: still working after \d+ s \(loading the model or thinking\)$/);
    const progress = updates.map((u) => u.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
  });

  it("aborts the provider request when the client cancels, while the model is still answering", async () => {
    const gate = ollama.holdAnswers(2);
    ollama.reply = () => ({ content: "tick ".repeat(50) });
    const controller = new AbortController();
    const call = client.callTool({ name: "ask_llm", arguments: { prompt: "count" } }, undefined, { signal: controller.signal });
    await until(() => gate.waiting === 1, "the stand-in to be mid-answer");
    controller.abort();
    await expect(call).rejects.toThrow();
    // The stand-in holds the rest of the answer and every deadline is minutes away: only the
    // cancel can close this request (a server that let the model finish would never close it).
    const [asked] = ollama.chats();
    await until(() => asked!.abortedAt !== undefined, "the server to abort the provider request");
    expect(gate.isOpen).toBe(false);
    expect((await callTool(client, "add", { a: 1, b: 1 })).text).toBe("2");
  });
});
