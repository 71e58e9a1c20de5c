import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHttpClient } from "../../../src/llm/providers/httpClient.js";
import { chat } from "../../../src/llm/providers/ollamaApi.js";
import type { ChatDelta } from "../../../src/llm/types.js";

/**
 * Our Ollama client (POST /api/chat, NDJSON) against answers a real server can give. Each test
 * sets what the next request gets.
 */
let answer: (res: ServerResponse, body: Record<string, unknown>) => void;
let server: Server;
let connections = 0;
let baseUrl: string;
const http = createHttpClient({ connectTimeoutMs: 1000 });
const limits = { firstTokenMs: 2000, idleMs: 2000, totalMs: 5000 };

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = "";
    req.on("data", (chunk) => (raw += chunk));
    req.on("end", () => answer(res, JSON.parse(raw) as Record<string, unknown>));
  });
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await http.close();
  await new Promise((resolve) => server.close(resolve));
});

function ask(onDelta?: (delta: ChatDelta) => void, extra: Record<string, unknown> = {}) {
  return chat({ baseUrl, http }, { model: "qwen3:4b", messages: [{ role: "user", content: "hi" }], onDelta, ...extra }, limits);
}

const line = (value: object) => `${JSON.stringify(value)}\n`;

describe("Ollama's native chat over our own client", () => {
  it("sends the native body and collects content, reasoning and counts from lines split anywhere", async () => {
    let sent: Record<string, unknown> = {};
    answer = (res, body) => {
      sent = body;
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      const stream =
        line({ model: "qwen3:4b", message: { role: "assistant", content: "", thinking: "thinking…" }, done: false }) +
        line({ model: "qwen3:4b", message: { role: "assistant", content: "Hel" }, done: false }) +
        line({ model: "qwen3:4b", message: { role: "assistant", content: "lo" }, done: false }) +
        line({ model: "qwen3:4b", message: { role: "assistant", content: "" }, done: true, done_reason: "stop", prompt_eval_count: 5, eval_count: 3 });
      for (let i = 0; i < stream.length; i += 7) res.write(stream.slice(i, i + 7));
      res.end();
    };
    const deltas: ChatDelta[] = [];
    const result = await ask((delta) => deltas.push(delta), { temperature: 0.2, maxTokens: 9, numCtx: 4096, think: "low", keepAlive: "5m" });
    expect(sent).toEqual({
      model: "qwen3:4b",
      stream: true,
      messages: [{ role: "user", content: "hi" }],
      think: "low",
      keep_alive: "5m",
      options: { temperature: 0.2, num_predict: 9, num_ctx: 4096 },
    });
    expect(result).toMatchObject({ text: "Hello", thinking: "thinking…", promptTokens: 5, completionTokens: 3, finishReason: "stop" });
    expect(deltas).toHaveLength(3);
  });

  it("turns an error status into Ollama's own words, with Retry-After kept", async () => {
    answer = (res) => {
      res.writeHead(503, { "content-type": "application/json", "retry-after": "2" });
      res.end(JSON.stringify({ error: "server busy" }));
    };
    await expect(ask()).rejects.toMatchObject({
      kind: "provider_error",
      message: "ollama failed (503: server busy).",
      details: { status: 503, retryAfterMs: 2000 },
    });
  });

  it("reports an error line sent mid-stream (status already 200)", async () => {
    answer = (res) => {
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      res.write(line({ message: { content: "par" }, done: false }));
      res.end(line({ error: "an error was encountered while running the model: unexpected EOF" }));
    };
    await expect(ask()).rejects.toMatchObject({
      kind: "provider_error",
      message: expect.stringContaining("Ollama failed mid-answer: an error was encountered"),
    });
  });

  it("says so when a 200 answer is not NDJSON (a proxy's page, say)", async () => {
    answer = (res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<html>captive portal</html>");
    };
    await expect(ask()).rejects.toMatchObject({ kind: "provider_error" });
  });

  it("reports a stream cut after some pieces as interrupted, so the retry loop tries again", async () => {
    answer = (res) => {
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      res.write(line({ message: { content: "par" }, done: false }));
      setImmediate(() => res.socket?.destroy());
    };
    await expect(ask()).rejects.toMatchObject({ kind: "interrupted", message: expect.stringContaining("broke after 1 streamed pieces") });
  });

  it("keeps its connection for the next call: the end of the body is read after the last line", async () => {
    let ended = Promise.resolve();
    answer = (res) => {
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      res.write(line({ message: { content: "ok" }, done: false }));
      res.write(line({ message: { content: "" }, done: true, done_reason: "stop" }));
      // Ollama ends the body in a write of its own, after the done line: here, after the client has its answer.
      ended = new Promise((resolve) => setTimeout(() => res.end(resolve), 30));
    };
    await ask();
    await ended;
    const before = connections;
    for (let i = 0; i < 5; i++) {
      expect((await ask()).text).toBe("ok");
      await ended;
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(connections - before).toBe(0);
  });
});
