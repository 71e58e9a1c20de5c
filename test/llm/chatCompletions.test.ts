import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { overHttp, streamChatCompletion } from "../../src/llm/chatCompletions.js";
import { createHttpClient } from "../../src/llm/http.js";
import type { ChatDelta } from "../../src/llm/types.js";

/**
 * Our own OpenAI-compatible client against answers a real server can give. Each test sets what
 * the next POST /v1/chat/completions gets.
 */
let answer: (res: ServerResponse, body: Record<string, unknown>) => void;
let server: Server;
let baseUrl: string;
const http = createHttpClient({ connectTimeoutMs: 1000 });
const limits = { firstTokenMs: 2000, idleMs: 2000, totalMs: 5000 };

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = "";
    req.on("data", (chunk) => (raw += chunk));
    req.on("end", () => answer(res, JSON.parse(raw) as Record<string, unknown>));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await http.close();
  await new Promise((resolve) => server.close(resolve));
});

function ask(onDelta?: (delta: ChatDelta) => void) {
  const context = { provider: "ollama" as const, baseUrl };
  return streamChatCompletion(overHttp(http, `${baseUrl}/v1`, context), { model: "qwen3:4b", messages: [{ role: "user", content: "hi" }], onDelta }, { ...context, limits });
}

const event = (value: object) => `data: ${JSON.stringify(value)}\n\n`;

describe("streamed chat completions over our own client", () => {
  it("sends the OpenAI body and collects content, reasoning and usage from events split anywhere", async () => {
    let sent: Record<string, unknown> = {};
    answer = (res, body) => {
      sent = body;
      res.writeHead(200, { "content-type": "text/event-stream" });
      const stream =
        event({ model: "qwen3:4b", choices: [{ delta: { reasoning: "thinking…" } }] }) +
        event({ model: "qwen3:4b", choices: [{ delta: { content: "Hel" } }] }) +
        event({ model: "qwen3:4b", choices: [{ delta: { content: "lo" }, finish_reason: "stop" }] }) +
        event({ model: "qwen3:4b", choices: [], usage: { prompt_tokens: 5, completion_tokens: 3 } }) +
        "data: [DONE]\n\n";
      for (let i = 0; i < stream.length; i += 7) res.write(stream.slice(i, i + 7));
      res.end();
    };
    const deltas: ChatDelta[] = [];
    const result = await ask((delta) => deltas.push(delta));
    expect(sent).toMatchObject({ model: "qwen3:4b", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "hi" }] });
    expect(result).toMatchObject({ text: "Hello", thinking: "thinking…", promptTokens: 5, completionTokens: 3, finishReason: "stop" });
    expect(deltas).toHaveLength(3);
  });

  it("turns an error status into the provider's own words, with Retry-After kept", async () => {
    answer = (res) => {
      res.writeHead(503, { "content-type": "application/json", "retry-after": "2" });
      res.end(JSON.stringify({ error: { message: "server busy", type: "api_error" } }));
    };
    await expect(ask()).rejects.toMatchObject({ kind: "provider_error", message: "ollama failed (503: server busy).", details: { status: 503, retryAfterMs: 2000 } });
  });

  it("says so when a 200 answer is not a stream of events (a proxy's page, say)", async () => {
    answer = (res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<html>captive portal</html>");
    };
    await expect(ask()).rejects.toMatchObject({ kind: "provider_error", message: expect.stringContaining("not with a stream of chat completion events") });
  });

  it("reports a stream cut after some pieces as interrupted, so the retry loop tries again", async () => {
    answer = (res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(event({ choices: [{ delta: { content: "par" } }] }));
      setTimeout(() => res.socket?.destroy(), 20);
    };
    await expect(ask()).rejects.toMatchObject({ kind: "interrupted", message: expect.stringContaining("broke after 1 streamed pieces") });
  });
});
