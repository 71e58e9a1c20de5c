import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { readBody } from "../test/support/ollamaStandIn.js";

/**
 * A provider stand-in with a fixed, known latency: POST /v1/chat/completions answers in OpenAI's
 * streamed SSE format after `firstTokenMs`, then `tokens` content chunks `tokenMs` apart. A model
 * named `bench:<first>ms-<tokens>x<gap>ms` (e.g. `bench:0ms-2000x0ms`) sets all three per request.
 * It records when each request arrived, when its first token and its last byte were written
 * (CLOCK_MONOTONIC ms, comparable across processes), keyed by the `#id` found in the last user
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


type Call = { model?: string; messages?: Array<{ role: string; content: string }>; stream_options?: { include_usage?: boolean } };

export function benchModel(o: StandInOptions): string {
  return `bench:${o.firstTokenMs}ms-${o.tokens}x${o.tokenMs}ms`;
}

function optionsFor(model: string | undefined, fallback: StandInOptions): StandInOptions {
  const m = /^bench:(\d+)ms-(\d+)x(\d+)ms$/.exec(model ?? "");
  return m ? { firstTokenMs: Number(m[1]), tokens: Number(m[2]), tokenMs: Number(m[3]) } : fallback;
}

async function chat(req: IncomingMessage, res: ServerResponse, fallback: StandInOptions): Promise<void> {
  const mark: Mark = { receivedAt: nowMs() };
  const call = JSON.parse(await readBody(req)) as Call;
  const options = optionsFor(call.model, fallback);
  const prompt = call.messages?.at(-1)?.content ?? "";
  const id = /#(\w+)/.exec(prompt)?.[1];
  if (id) {
    if (marks.size > 20_000) marks.clear();
    marks.set(id, mark);
  }
  const base = { id: "chatcmpl-bench", object: "chat.completion.chunk", created: Math.floor(Date.now() / 1000), model: call.model ?? "bench" };
  const chunk = (delta: object, finish: string | null) => `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  await sleep(options.firstTokenMs);
  res.writeHead(200, { "content-type": "text/event-stream" });
  for (let i = 0; i < options.tokens; i++) {
    if (res.destroyed) return;
    res.write(chunk({ role: "assistant", content: ` tok${i}` }, null));
    if (i === 0) mark.firstTokenAt = nowMs();
    if (i < options.tokens - 1) await sleep(options.tokenMs);
  }
  res.write(chunk({}, "stop"));
  const usage = { prompt_tokens: 8, completion_tokens: options.tokens, total_tokens: 8 + options.tokens };
  if (call.stream_options?.include_usage) res.write(`data: ${JSON.stringify({ ...base, choices: [], usage })}\n\n`);
  res.end("data: [DONE]\n\n");
  mark.endAt = nowMs();
}

function handle(req: IncomingMessage, res: ServerResponse, options: StandInOptions): void {
  const path = (req.url ?? "/").split("?")[0] ?? "/";
  if (req.method === "POST" && path === "/v1/chat/completions") {
    chat(req, res, options).catch(() => res.destroy());
    return;
  }
  if (req.method === "GET" && path.startsWith("/marks/")) {
    const id = path.slice("/marks/".length);
    const mark = marks.get(id);
    marks.delete(id);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(mark ?? null));
    return;
  }
  res.writeHead(404, { "content-type": "application/json" });
  res.end(JSON.stringify({ error: "not found" }));
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
