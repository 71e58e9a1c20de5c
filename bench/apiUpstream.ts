import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * The upstream for `pnpm bench:api`, in its own process: what Ollama answers on /v1/chat/completions
 * (OpenAI chunks) and /v1/messages (Anthropic events), streamed or whole, with a fixed latency: the
 * first token after UPSTREAM_FIRST_TOKEN_MS, then UPSTREAM_TOKENS tokens UPSTREAM_TOKEN_MS apart.
 * GET /api/tags lists its one model. Prints {"port":N} on stdout.
 */

const firstTokenMs = Number(process.env.UPSTREAM_FIRST_TOKEN_MS ?? 20);
const tokenCount = Number(process.env.UPSTREAM_TOKENS ?? 10);
const tokenMs = Number(process.env.UPSTREAM_TOKEN_MS ?? 1);
const MODEL = "bench:1b";
const words = Array.from({ length: tokenCount }, (_, i) => ` word${i}`);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function readBody(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(chunks.length ? (JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>) : {}));
  });
}

async function stream(res: http.ServerResponse, events: string[], head: string, tail: string): Promise<void> {
  res.writeHead(200, { "content-type": "text/event-stream" });
  await sleep(firstTokenMs);
  res.write(head);
  for (const event of events) {
    res.write(event);
    await sleep(tokenMs);
  }
  res.end(tail);
}

async function chat(res: http.ServerResponse, body: Record<string, unknown>): Promise<void> {
  const base = { id: "chatcmpl-bench", object: "chat.completion.chunk", created: 0, model: MODEL };
  const usage = { prompt_tokens: 5, completion_tokens: tokenCount, total_tokens: 5 + tokenCount };
  if (!body.stream) {
    await sleep(firstTokenMs + tokenCount * tokenMs);
    const message = { role: "assistant", content: words.join("") };
    res
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify({ ...base, object: "chat.completion", choices: [{ index: 0, message, finish_reason: "stop" }], usage }));
    return;
  }
  const chunk = (delta: Record<string, unknown>, finish: string | null) =>
    `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  const withUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage;
  const tail = `${chunk({}, "stop") + (withUsage ? `data: ${JSON.stringify({ ...base, choices: [], usage })}\n\n` : "")}data: [DONE]\n\n`;
  await stream(
    res,
    words.map((word) => chunk({ content: word }, null)),
    chunk({ role: "assistant", content: "" }, null),
    tail,
  );
}

async function messages(res: http.ServerResponse, body: Record<string, unknown>): Promise<void> {
  const usage = { input_tokens: 5, output_tokens: tokenCount };
  if (!body.stream) {
    await sleep(firstTokenMs + tokenCount * tokenMs);
    const message = {
      id: "msg_bench",
      type: "message",
      role: "assistant",
      model: MODEL,
      content: [{ type: "text", text: words.join("") }],
      stop_reason: "end_turn",
      stop_sequence: null,
      usage,
    };
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(message));
    return;
  }
  const event = (type: string, data: Record<string, unknown> = {}) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  const start = {
    id: "msg_bench",
    type: "message",
    role: "assistant",
    model: MODEL,
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: 5, output_tokens: 0 },
  };
  const head =
    event("message_start", { message: start }) + event("ping") + event("content_block_start", { index: 0, content_block: { type: "text", text: "" } });
  const deltas = words.map((word) => event("content_block_delta", { index: 0, delta: { type: "text_delta", text: word } }));
  const tail =
    event("content_block_stop", { index: 0 }) +
    event("message_delta", { delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: tokenCount } }) +
    event("message_stop");
  await stream(res, deltas, head, tail);
}

const server = http.createServer(async (req, res) => {
  const path = (req.url ?? "/").split("?")[0];
  const body = await readBody(req);
  if (req.method === "GET" && path === "/api/tags")
    return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ models: [{ name: MODEL, model: MODEL, size: 1 }] }));
  if (req.method === "POST" && path === "/v1/chat/completions") return chat(res, body);
  if (req.method === "POST" && path === "/v1/messages") return messages(res, body);
  res.writeHead(404).end("404 page not found");
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`));
process.on("SIGTERM", () => process.exit(0));
