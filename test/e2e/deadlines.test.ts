import { describe, expect, it } from "vitest";
import type { OllamaStandIn } from "../support/ollamaStandIn.js";
import { callTool, type Stack, startWithStandIn, type TransportKind } from "../support/server.js";
import { until } from "../support/wait.js";

/**
 * Each deadline of a model call (LLM_FIRST_TOKEN_TIMEOUT_MS, LLM_IDLE_TIMEOUT_MS,
 * LLM_TOTAL_TIMEOUT_MS) end to end, over both transports: the client gets the message that names
 * it, and the provider request is closed. The stand-in holds or paces the answer so that the
 * deadline under test is the only thing that can end the call; when exactly each deadline fires is
 * checked on a fake clock in test/llm/streaming/streamWatch.test.ts.
 */

describe.each<TransportKind>(["streamable-http", "sse"])("deadlines over %s", (kind) => {
  /**
   * A server with one deadline set short; the others keep their defaults (minutes), so the one
   * under test is the only one that can end the call, however slowly this machine runs.
   */
  async function withDeadline(env: Record<string, string>, test: (stack: Stack) => Promise<void>): Promise<void> {
    const stack = await startWithStandIn(env, kind);
    try {
      await test(stack);
    } finally {
      stack.ollama.reset();
      await stack.stop();
    }
  }

  /** The stand-in saw the server close the request it gave up on, before the answer was complete. */
  async function expectClosedByServer(ollama: OllamaStandIn): Promise<void> {
    const asked = ollama.chats();
    expect(asked).toHaveLength(1);
    await until(() => asked[0]!.abortedAt !== undefined, "the server to close the provider request it gave up on");
  }

  it("names the first-token limit when a model never starts answering", () =>
    withDeadline({ LLM_FIRST_TOKEN_TIMEOUT_MS: "500" }, async ({ ollama, client }) => {
      ollama.holdAnswers();
      const result = await callTool(client, "ask_llm", { prompt: "hello" });
      expect(result.isError).toBe(true);
      expect(result.text).toContain("sent no first token within 500 ms");
      expect(result.text).toContain("Raise LLM_FIRST_TOKEN_TIMEOUT_MS");
      await expectClosedByServer(ollama);
    }));

  it("names the idle limit when a model goes silent mid-answer", () =>
    withDeadline({ LLM_IDLE_TIMEOUT_MS: "400" }, async ({ ollama, client }) => {
      ollama.holdAnswers(2);
      const result = await callTool(client, "ask_llm", { prompt: "a b c d e f" });
      expect(result.isError).toBe(true);
      expect(result.text).toContain("went silent for 400 ms mid-answer (LLM_IDLE_TIMEOUT_MS)");
      await expectClosedByServer(ollama);
    }));

  it("names the total limit when an answer streams on too long", () =>
    withDeadline({ LLM_TOTAL_TIMEOUT_MS: "1000" }, async ({ ollama, client }) => {
      // 100 tokens 50 ms apart: at least 5 s of steady streaming, never silent for the idle limit.
      ollama.behaviour = { firstTokenDelayMs: 0, tokenDelayMs: 50 };
      ollama.reply = () => ({ content: "slow ".repeat(100) });
      const result = await callTool(client, "ask_llm", { prompt: "go" });
      expect(result.isError).toBe(true);
      expect(result.text).toContain("did not finish within 1000 ms (LLM_TOTAL_TIMEOUT_MS)");
      await expectClosedByServer(ollama);
    }));
});
