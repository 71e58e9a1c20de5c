import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A provider stand-in with a fixed, known latency, speaking Ollama's native API as the gateway
 * uses it: POST /api/chat streams NDJSON (the first `message.content` line after `firstTokenMs`,
 * then one line per token `tokenMs` apart, then the `done: true` line with the counts);
 * GET /api/tags, POST /api/show and GET /api/version answer at once. A model named
 * `bench:<first>ms-<tokens>x<gap>ms` (e.g. `bench:0ms-2000x0ms`) sets all three per request.
 *
 * POST /v1/chat/completions answers the same in OpenAI's streamed SSE format: only the
 * provider-client micro-benchmark (bench/providerClient.ts) uses it, for the cloud providers'
 * client; the gateway never calls it.
 *
 * It records when each request arrived, when its first token and its last byte were written
 * (CLOCK_MONOTONIC ms, comparable across processes), keyed by the `#id` found in the last
 * message: GET /marks/<id> returns them once.
 * Run as its own process (`node --import tsx bench/standIn.ts`): it prints {"port":N} on stdout.
 */

export type StandInOptions = { firstTokenMs: number; tokens: number; tokenMs: number };

/** When the request arrived, its first token was written and its last byte was written (CLOCK_MONOTONIC ms). */
export type Mark = { receivedAt: number; firstTokenAt?: number; endAt?: number };

const marks = new Map<string, Mark>();

function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  res.end(JSON.stringify(body));
}

type Call = {
  model?: string;
  messages?: Array<{ role: string; content: string }>;
  stream?: boolean;
  options?: { num_predict?: number };
  stream_options?: { include_usage?: boolean };
};

export function benchModel(o: StandInOptions): string {
  return `bench:${o.firstTokenMs}ms-${o.tokens}x${o.tokenMs}ms`;
}

function optionsFor(model: string | undefined, fallback: StandInOptions): StandInOptions {
  const m = /^bench:(\d+)ms-(\d+)x(\d+)ms$/.exec(model ?? "");
  return m ? { firstTokenMs: Number(m[1]), tokens: Number(m[2]), tokenMs: Number(m[3]) } : fallback;
}

/** Reads the call, records its arrival under the `#id` of its last message, and waits for the first token. */
async function begin(req: IncomingMessage, fallback: StandInOptions): Promise<{ call: Call; options: StandInOptions; mark: Mark }> {
  const mark: Mark = { receivedAt: nowMs() };
  const call = JSON.parse(await readBody(req)) as Call;
  const options = optionsFor(call.model, fallback);
  const id = /#(\w+)/.exec(call.messages?.at(-1)?.content ?? "")?.[1];
  if (id) {
    if (marks.size > 20_000) marks.clear();
    marks.set(id, mark);
  }
  await sleep(options.firstTokenMs);
  return { call, options, mark };
}

/** Writes `count` token pieces `gapMs` apart; false if the client went away. */
async function writeTokens(res: ServerResponse, mark: Mark, count: number, gapMs: number, piece: (i: number) => string): Promise<boolean> {
  for (let i = 0; i < count; i++) {
    if (res.destroyed) return false;
    res.write(piece(i));
    if (i === 0) mark.firstTokenAt = nowMs();
    if (i < count - 1) await sleep(gapMs);
  }
  return true;
}

/** Ollama's POST /api/chat: NDJSON lines as Ollama writes them (or one JSON answer with stream: false). */
async function ollamaChat(req: IncomingMessage, res: ServerResponse, fallback: StandInOptions): Promise<void> {
  const { call, options, mark } = await begin(req, fallback);
  const model = call.model ?? "bench";
  const limit = call.options?.num_predict;
  const tokens = limit !== undefined && limit >= 0 ? Math.min(options.tokens, limit) : options.tokens;
  const created_at = new Date().toISOString();
  const done = {
    model,
    created_at,
    message: { role: "assistant", content: "" },
    done: true,
    done_reason: tokens < options.tokens ? "length" : "stop",
    total_duration: Math.round((nowMs() - mark.receivedAt) * 1e6),
    load_duration: 0,
    prompt_eval_count: 8,
    prompt_eval_duration: 0,
    eval_count: tokens,
    eval_duration: Math.round(tokens * options.tokenMs * 1e6),
  };
  if (call.stream === false) {
    const content = Array.from({ length: tokens }, (_, i) => ` tok${i}`).join("");
    json(res, 200, { ...done, message: { role: "assistant", content } });
    mark.firstTokenAt = mark.endAt = nowMs();
    return;
  }
  res.writeHead(200, { "content-type": "application/x-ndjson" });
  const line = (i: number) => `${JSON.stringify({ model, created_at, message: { role: "assistant", content: ` tok${i}` }, done: false })}\n`;
  if (!(await writeTokens(res, mark, tokens, options.tokenMs, line))) return;
  // Ollama (Go's net/http under gin's c.Stream) flushes each line, the done line included, and
  // writes the chunked body's terminator afterwards, on its own: so does this.
  res.write(`${JSON.stringify(done)}\n`);
  res.end();
  mark.endAt = nowMs();
}

/** OpenAI's POST /v1/chat/completions, streamed as SSE: for bench/providerClient.ts only. */
async function openAiChat(req: IncomingMessage, res: ServerResponse, fallback: StandInOptions): Promise<void> {
  const { call, options, mark } = await begin(req, fallback);
  const base = { id: "chatcmpl-bench", object: "chat.completion.chunk", created: Math.floor(Date.now() / 1000), model: call.model ?? "bench" };
  const chunk = (delta: object, finish: string | null) => `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  res.writeHead(200, { "content-type": "text/event-stream" });
  if (!(await writeTokens(res, mark, options.tokens, options.tokenMs, (i) => chunk({ role: "assistant", content: ` tok${i}` }, null)))) return;
  res.write(chunk({}, "stop"));
  const usage = { prompt_tokens: 8, completion_tokens: options.tokens, total_tokens: 8 + options.tokens };
  if (call.stream_options?.include_usage) res.write(`data: ${JSON.stringify({ ...base, choices: [], usage })}\n\n`);
  res.end("data: [DONE]\n\n");
  mark.endAt = nowMs();
}

const DETAILS = { format: "gguf", family: "bench", families: ["bench"], parameter_size: "0B", quantization_level: "F16" };

function tags(res: ServerResponse, fallback: StandInOptions): void {
  const name = benchModel(fallback);
  json(res, 200, { models: [{ name, model: name, modified_at: "2026-01-01T00:00:00Z", size: 1, digest: "0".repeat(64), details: DETAILS }] });
}

async function show(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { model } = JSON.parse((await readBody(req)) || "{}") as { model?: string };
  if (!model) json(res, 400, { error: "model is required" });
  else json(res, 200, { details: DETAILS, model_info: { "general.architecture": "bench", "bench.context_length": 32768 }, capabilities: ["completion"] });
}

function takeMark(res: ServerResponse, id: string): void {
  const mark = marks.get(id);
  marks.delete(id);
  json(res, 200, mark ?? null);
}

type Handler = (req: IncomingMessage, res: ServerResponse, options: StandInOptions) => void | Promise<void>;

const ROUTES: Record<string, Handler> = {
  "POST /api/chat": ollamaChat,
  "GET /api/tags": (_req, res, options) => tags(res, options),
  "POST /api/show": (req, res) => show(req, res),
  "GET /api/version": (_req, res) => json(res, 200, { version: "0.0.0-bench" }),
  "POST /v1/chat/completions": openAiChat,
};

function handle(req: IncomingMessage, res: ServerResponse, options: StandInOptions): void {
  const path = (req.url ?? "/").split("?")[0] ?? "/";
  const handler = ROUTES[`${req.method} ${path}`];
  if (handler) {
    Promise.resolve(handler(req, res, options)).catch(() => res.destroy());
  } else if (req.method === "GET" && path.startsWith("/marks/")) {
    takeMark(res, path.slice("/marks/".length));
  } else {
    json(res, 404, { error: "not found" });
  }
}

export async function startStandIn(options: StandInOptions): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => handle(req, res, options));
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const options = {
    firstTokenMs: Number(process.env.STANDIN_FIRST_TOKEN_MS ?? 20),
    tokens: Number(process.env.STANDIN_TOKENS ?? 10),
    tokenMs: Number(process.env.STANDIN_TOKEN_MS ?? 1),
  };
  const { port } = await startStandIn(options);
  process.stdout.write(`${JSON.stringify({ port })}\n`);
  process.on("SIGTERM", () => process.exit(0));
}
