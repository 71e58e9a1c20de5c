import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { anthropicMessages, type MessagesCall } from "./standInMessages.js";

/**
 * An in-process stand-in for Ollama (API as documented for v0.33): the native /api/* routes, the
 * OpenAI-compatible /v1/* routes and the Anthropic-compatible /v1/messages (since Ollama 0.14),
 * streamed and not, tool calls included, with Ollama's error bodies.
 *
 * Where a real Ollama differs: tokens are whitespace-separated words rather than the model's
 * tokenizer, answers come from `reply` instead of a model, load time is simulated by `behaviour`
 * delays, and durations in the final stats line are measured wall time of this fake.
 *
 * A test that needs an answer to come late holds it at a `Gate` (`behaviour.hold`) and opens the
 * gate when it has seen what it waits for, rather than counting on a delay being long enough: on a
 * busy machine a delay can run out before the rest of the test has caught up.
 */

export type StandInModel = {
  name: string;
  size: number;
  family: string;
  parameterSize: string;
  quantization: string;
  contextLength: number;
  capabilities: string[];
  /** Embedding models: the length of their vectors. */
  embeddingLength?: number;
};

export const DEFAULT_MODELS: StandInModel[] = [
  {
    name: "qwen3:4b",
    size: 2_497_293_931,
    family: "qwen3",
    parameterSize: "4.0B",
    quantization: "Q4_K_M",
    contextLength: 40_960,
    capabilities: ["completion", "tools", "thinking"],
  },
  {
    name: "gemma3:12b",
    size: 8_149_190_253,
    family: "gemma3",
    parameterSize: "12.2B",
    quantization: "Q4_K_M",
    contextLength: 131_072,
    capabilities: ["completion", "vision"],
  },
  {
    name: "deepseek-r1:14b",
    size: 8_988_112_040,
    family: "qwen2",
    parameterSize: "14.8B",
    quantization: "Q4_K_M",
    contextLength: 131_072,
    capabilities: ["completion", "thinking"],
  },
  {
    name: "embeddinggemma:latest",
    size: 621_875_563,
    family: "gemma3",
    parameterSize: "307.58M",
    quantization: "BF16",
    contextLength: 2_048,
    capabilities: ["embedding"],
    embeddingLength: 768,
  },
  {
    name: "nomic-embed-text:latest",
    size: 274_302_450,
    family: "nomic-bert",
    parameterSize: "137M",
    quantization: "F16",
    contextLength: 2_048,
    capabilities: ["embedding"],
    embeddingLength: 768,
  },
  {
    name: "all-minilm:latest",
    size: 45_960_996,
    family: "bert",
    parameterSize: "23M",
    quantization: "F16",
    contextLength: 512,
    capabilities: ["embedding"],
    embeddingLength: 384,
  },
];

/**
 * Holds the stand-in's answers until the test opens it. `waiting` counts the requests held at it
 * now, so a test can wait until the server's request has arrived and is being held.
 */
export class Gate {
  private release: () => void = () => undefined;
  readonly opened: Promise<void> = new Promise((resolve) => (this.release = resolve));
  isOpen = false;
  waiting = 0;

  open(): void {
    this.isOpen = true;
    this.release();
  }
}

export type ChatCall = {
  model: string;
  messages: Array<{ role: string; content: string }>;
  options?: Record<string, unknown>;
  think?: unknown;
  keep_alive?: unknown;
  tools?: unknown[];
};
export type ToolCallReply = { id?: string; name: string; arguments: Record<string, unknown> };
export type Reply = { content: string; thinking?: string; toolCalls?: ToolCallReply[] };

export type Behaviour = {
  /** Delay before the first byte of any answer (model load), ms. */
  firstTokenDelayMs: number;
  /** Delay between streamed tokens, ms. */
  tokenDelayMs: number;
  /** Answer every request with this status and body instead (Ollama's `{"error": ...}` shape). */
  failWith?: { status: number; error: string; headers?: Record<string, string>; times?: number };
  /** Accept the request and never answer. */
  hang?: boolean;
  /** Close the connection after this many streamed tokens (once, if `dropOnce`). */
  dropAfterTokens?: number;
  dropOnce?: boolean;
  /** Send an error line (status already 200) after this many tokens, as Ollama does mid-stream. */
  errorAfterTokens?: number;
  /** Go silent for `ms` after `after` tokens (a model thinking without output). */
  pauseAfterTokens?: { after: number; ms: number };
  /**
   * Hold answers until `gate` opens: a chat before its first byte (a model still loading) or, with
   * `afterTokens`, after that many streamed tokens (a model gone quiet mid-answer); a pull after
   * its first status line. Applies after the other delays; a missing model is still refused at once.
   */
  hold?: { gate: Gate; afterTokens?: number };
  /** /api/embed answers 500 once this many /api/embed calls have been answered. */
  embedFailAfter?: number;
  /** /api/embed answers vectors of this length instead of the model's own. */
  embedDimensions?: number;
};

export type RecordedRequest = {
  method: string;
  path: string;
  body: unknown;
  headers: http.IncomingHttpHeaders;
  /** When the client closed the connection before the answer was complete (ms since start), if it did. */
  abortedAt?: number;
  receivedAt: number;
};

export class OllamaStandIn {
  readonly models: StandInModel[] = DEFAULT_MODELS.map((m) => ({ ...m }));
  readonly requests: RecordedRequest[] = [];
  behaviour: Behaviour = { firstTokenDelayMs: 0, tokenDelayMs: 0 };
  reply: (call: ChatCall) => Reply = (call) => ({ content: `Echo from ${call.model}: ${lastUserMessage(call)}` });
  /** What GET /api/version says. */
  version = "0.33.0";
  /** Routes this Ollama does not serve (as an older release would not): answered with Go's plain 404. */
  readonly missingRoutes = new Set<string>();
  /** /api/embed calls answered so far. */
  embedCalls = 0;
  private server = http.createServer((req, res) => void this.handle(req, res));
  private sockets = new Set<Socket>();
  port = 0;

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(port = 0): Promise<this> {
    this.server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server.listen(port, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** Stops listening and cuts every open connection: later calls get ECONNREFUSED. */
  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Chat requests, native (`/api/chat`) and OpenAI-compatible alike: see `isChat`. */
  chats(): RecordedRequest[] {
    return this.requests.filter(isChat);
  }

  /** From now on, holds answers (as `Behaviour.hold` says) until the returned gate opens. */
  holdAnswers(afterTokens?: number): Gate {
    const gate = new Gate();
    this.behaviour.hold = { gate, afterTokens };
    return gate;
  }

  /** Back to answering at once; a gate still closed is opened, so nothing stays held. */
  reset(): void {
    this.behaviour.hold?.gate.open();
    this.behaviour = { firstTokenDelayMs: 0, tokenDelayMs: 0 };
    this.requests.length = 0;
    this.embedCalls = 0;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      return json(res, 400, { error: "invalid character in JSON body" });
    }
    const recorded: RecordedRequest = { method: req.method ?? "GET", path, body, headers: req.headers, receivedAt: Date.now() };
    this.requests.push(recorded);
    res.on("close", () => {
      if (!res.writableFinished) recorded.abortedAt = Date.now();
    });
    const b = behaviourOnce(this.behaviour);
    if (b.hang) return;
    if (b.failWith) {
      if (path === "/v1/messages")
        return json(res, b.failWith.status, { type: "error", error: { type: "api_error", message: b.failWith.error } }, b.failWith.headers);
      const openAiShape = path.startsWith("/v1/");
      const error = openAiShape ? { message: b.failWith.error, type: "api_error", param: null, code: null } : b.failWith.error;
      return json(res, b.failWith.status, { error }, b.failWith.headers);
    }
    const route = `${req.method} ${path}`;
    if (this.missingRoutes.has(path)) return void res.writeHead(404, { "content-type": "text/plain" }).end("404 page not found");
    switch (route) {
      case "GET /api/version":
        return json(res, 200, { version: this.version });
      case "GET /api/tags":
        return json(res, 200, { models: this.models.map(tagOf) });
      case "GET /api/ps":
        return json(res, 200, { models: [] });
      case "POST /api/show":
        return this.show(res, body as { model?: string });
      case "POST /api/generate":
        return this.generate(res, body as { model?: string; prompt?: string });
      case "POST /api/pull":
        return this.pull(res, body as { model?: string });
      case "POST /api/chat":
        return this.nativeChat(res, body as ChatCall & { stream?: boolean });
      case "POST /api/embed":
        return this.embed(res, body as EmbedCall);
      case "GET /v1/models":
        return json(res, 200, { object: "list", data: this.models.map((m) => ({ id: m.name, object: "model", created: 0, owned_by: "library" })) });
      case "POST /v1/chat/completions":
        return this.openAiChat(res, body as ChatCall & { stream?: boolean; stream_options?: { include_usage?: boolean } });
      case "POST /v1/messages":
        return anthropicMessages(this, res, body as MessagesCall);
      default:
        return json(res, 404, { error: "404 page not found" });
    }
  }

  find(name: string | undefined): StandInModel | undefined {
    const withTag = (n: string) => (/:[^/]*$/.test(n) ? n : `${n}:latest`);
    return name ? this.models.find((m) => withTag(m.name) === withTag(name)) : undefined;
  }

  private show(res: ServerResponse, body: { model?: string }): void {
    const model = this.find(body?.model);
    if (!model) return json(res, 404, { error: `model '${body?.model}' not found` });
    json(res, 200, {
      modelfile: `FROM ${model.name}`,
      parameters: "",
      template: "{{ .Prompt }}",
      details: { format: "gguf", family: model.family, families: [model.family], parameter_size: model.parameterSize, quantization_level: model.quantization },
      model_info: {
        "general.architecture": model.family,
        [`${model.family}.context_length`]: model.contextLength,
        ...(model.embeddingLength && { [`${model.family}.embedding_length`]: model.embeddingLength }),
      },
      capabilities: model.capabilities,
    });
  }

  /**
   * Embeddings as Ollama answers them, made deterministic: a hashed bag of words (see
   * `standInEmbedding`), so texts that share words are near. `dimensions` shortens them, as models
   * trained for it do. Models without the `embedding` capability are refused.
   */
  private embed(res: ServerResponse, call: EmbedCall): void {
    const model = this.find(call?.model);
    if (!model) return json(res, 404, { error: `model "${call?.model}" not found, try pulling it first` });
    if (!model.capabilities.includes("embedding") || !model.embeddingLength) return json(res, 400, { error: "this model does not support embeddings" });
    const inputs = typeof call.input === "string" ? [call.input] : call.input;
    if (!Array.isArray(inputs) || inputs.some((text) => typeof text !== "string")) return json(res, 400, { error: "invalid input type" });
    if (this.behaviour.embedFailAfter !== undefined && this.embedCalls >= this.behaviour.embedFailAfter) {
      return json(res, 500, { error: "an error was encountered while running the model: GGML_ASSERT failed" });
    }
    this.embedCalls++;
    const length = this.behaviour.embedDimensions ?? Math.min(model.embeddingLength, call.dimensions || model.embeddingLength);
    json(res, 200, {
      model: call.model,
      embeddings: inputs.map((text) => standInEmbedding(text, length)),
      total_duration: 1_000_000,
      load_duration: 0,
      prompt_eval_count: inputs.reduce((sum, text) => sum + words(text).length, 0),
    });
  }

  /** Only the preload form (empty prompt) is served: it loads the model and answers done_reason "load". */
  private generate(res: ServerResponse, body: { model?: string; prompt?: string }): void {
    if (!this.find(body?.model)) return json(res, 404, { error: `model '${body?.model}' not found` });
    json(res, 200, { model: body.model, created_at: new Date().toISOString(), response: "", done: true, done_reason: "load" });
  }

  /** Streams a pull of two layers; names containing "nonexistent" fail the way Ollama does, as a line. */
  private async pull(res: ServerResponse, body: { model?: string }): Promise<void> {
    const name = body?.model ?? "";
    res.writeHead(200, { "content-type": "application/x-ndjson" });
    const line = (value: object) => res.write(`${JSON.stringify(value)}\n`);
    line({ status: "pulling manifest" });
    if (name.includes("nonexistent")) return void res.end(`${JSON.stringify({ error: "pull model manifest: file does not exist" })}\n`);
    if (!(await this.held(res, 0))) return;
    const layers = [
      { digest: `sha256:${"a".repeat(64)}`, total: 1_000_000 },
      { digest: `sha256:${"b".repeat(64)}`, total: 4_000 },
    ];
    for (const layer of layers) {
      for (const completed of [0, layer.total / 2, layer.total]) {
        line({ status: `pulling ${layer.digest.slice(7, 19)}`, digest: layer.digest, total: layer.total, completed });
        await sleep(this.behaviour.tokenDelayMs);
      }
    }
    for (const status of ["verifying sha256 digest", "writing manifest", "success"]) line({ status });
    if (!this.find(name)) this.models.push({ ...DEFAULT_MODELS[0]!, name, size: 1_004_000 });
    res.end();
  }

  private async nativeChat(res: ServerResponse, call: ChatCall & { stream?: boolean }): Promise<void> {
    if (!this.find(call?.model)) return json(res, 404, { error: `model "${call?.model}" not found, try pulling it first` });
    const started = process.hrtime.bigint();
    const answer = this.reply(call);
    const thinking = call.think === false ? [] : tokens(answer.thinking ?? "");
    const content = tokens(answer.content);
    await sleep(this.behaviour.firstTokenDelayMs);
    if (!(await this.held(res, 0))) return;
    const final = (evalCount: number) => ({
      model: call.model,
      created_at: new Date().toISOString(),
      message: { role: "assistant", content: "" },
      done_reason: "stop",
      done: true,
      total_duration: Number(process.hrtime.bigint() - started),
      load_duration: this.behaviour.firstTokenDelayMs * 1e6,
      prompt_eval_count: promptTokens(call),
      prompt_eval_duration: 1e6,
      eval_count: evalCount,
      eval_duration: Math.max(1, thinking.length + content.length) * Math.max(1, this.behaviour.tokenDelayMs) * 1e6,
    });
    if (call.stream === false) {
      return json(res, 200, {
        ...final(thinking.length + content.length),
        message: { role: "assistant", content: answer.content, ...(thinking.length && { thinking: answer.thinking }) },
      });
    }
    res.writeHead(200, { "content-type": "application/x-ndjson" });
    const pieces = [...thinking.map((t) => ({ thinking: t })), ...content.map((c) => ({ content: c }))];
    if (
      !(await this.streamPieces(
        res,
        pieces,
        (piece) =>
          JSON.stringify({ model: call.model, created_at: new Date().toISOString(), message: { role: "assistant", content: "", ...piece }, done: false }) +
          "\n",
        (error) => `${JSON.stringify({ error })}\n`,
      ))
    )
      return;
    res.end(`${JSON.stringify(final(pieces.length))}\n`);
  }

  private async openAiChat(
    res: ServerResponse,
    call: ChatCall & { stream?: boolean; stream_options?: { include_usage?: boolean }; reasoning_effort?: string },
  ): Promise<void> {
    if (!this.find(call?.model)) {
      return json(res, 404, { error: { message: `model "${call?.model}" not found, try pulling it first`, type: "api_error", param: null, code: null } });
    }
    const answer = this.reply(call);
    const thinking = call.reasoning_effort === "none" ? [] : tokens(answer.thinking ?? "");
    const content = tokens(answer.content);
    const usage = {
      prompt_tokens: promptTokens(call),
      completion_tokens: thinking.length + content.length,
      total_tokens: promptTokens(call) + thinking.length + content.length,
    };
    const base = { id: "chatcmpl-42", created: Math.floor(Date.now() / 1000), model: call.model, system_fingerprint: "fp_ollama" };
    await sleep(this.behaviour.firstTokenDelayMs);
    const calls = (answer.toolCalls ?? []).map((c, i) => ({
      id: c.id ?? `call_${i}`,
      type: "function",
      function: { name: c.name, arguments: JSON.stringify(c.arguments) },
    }));
    const finish = calls.length > 0 ? "tool_calls" : "stop";
    if (!(await this.held(res, 0))) return;
    if (!call.stream) {
      const message = {
        role: "assistant",
        content: answer.content,
        ...(thinking.length && { reasoning: answer.thinking }),
        ...(calls.length && { tool_calls: calls }),
      };
      return json(res, 200, { ...base, object: "chat.completion", choices: [{ index: 0, message, finish_reason: finish }], usage });
    }
    res.writeHead(200, { "content-type": "text/event-stream" });
    const chunk = (delta: Record<string, unknown>, finish: string | null) => ({
      ...base,
      object: "chat.completion.chunk",
      choices: [{ index: 0, delta: { role: "assistant", ...delta }, finish_reason: finish }],
    });
    const toolPieces = calls.flatMap((c, index) => [
      { tool_calls: [{ index, id: c.id, type: "function", function: { name: c.function.name, arguments: "" } }] },
      ...halves(c.function.arguments).map((part) => ({ tool_calls: [{ index, function: { arguments: part } }] })),
    ]);
    const pieces = [...thinking.map((t) => ({ reasoning: t })), ...content.map((c) => ({ content: c })), ...toolPieces];
    if (
      !(await this.streamPieces(
        res,
        pieces,
        (piece) => `data: ${JSON.stringify(chunk(piece, null))}\n\n`,
        (message) => `data: ${JSON.stringify({ error: { message, type: "api_error" } })}\n\n`,
      ))
    )
      return;
    res.write(`data: ${JSON.stringify(chunk({ content: "" }, finish))}\n\n`);
    if (call.stream_options?.include_usage) res.write(`data: ${JSON.stringify({ ...base, object: "chat.completion.chunk", choices: [], usage })}\n\n`);
    res.end("data: [DONE]\n\n");
  }

  /** Writes pieces with the configured pacing and faults; false when the stream ended early, on purpose or by the client. */
  async streamPieces<T>(res: ServerResponse, pieces: T[], encode: (piece: T) => string, encodeError: (message: string) => string): Promise<boolean> {
    const b = this.behaviour;
    for (const [index, piece] of pieces.entries()) {
      if (b.dropAfterTokens !== undefined && index >= b.dropAfterTokens) {
        if (b.dropOnce) b.dropAfterTokens = undefined;
        res.socket?.destroy();
        return false;
      }
      if (b.errorAfterTokens !== undefined && index >= b.errorAfterTokens) {
        res.end(encodeError("an error was encountered while running the model: unexpected EOF"));
        return false;
      }
      if (b.pauseAfterTokens && index === b.pauseAfterTokens.after) await sleep(b.pauseAfterTokens.ms);
      if (index > 0 && !(await this.held(res, index))) return false;
      if (res.destroyed) return false;
      res.write(encode(piece));
      if (b.tokenDelayMs) await sleep(b.tokenDelayMs);
    }
    return !res.destroyed;
  }

  /** Waits at the gate of `behaviour.hold` when it applies after `tokens` tokens; false when the client went away (meanwhile or before). */
  private async held(res: ServerResponse, tokens: number): Promise<boolean> {
    const hold = this.behaviour.hold;
    if (res.destroyed || !hold || (hold.afterTokens ?? 0) !== tokens || hold.gate.isOpen) return !res.destroyed;
    hold.gate.waiting++;
    await Promise.race([hold.gate.opened, new Promise((resolve) => res.once("close", resolve))]);
    hold.gate.waiting--;
    return !res.destroyed;
  }
}

/** Ollama's two chat endpoints, native and OpenAI-compatible: tests match both, whichever one the server calls. */
export const CHAT_PATHS = ["/api/chat", "/v1/chat/completions"] as const;

export function isChat(request: Pick<RecordedRequest, "method" | "path">): boolean {
  return request.method === "POST" && (CHAT_PATHS as readonly string[]).includes(request.path);
}

type EmbedCall = { model?: string; input: string | string[]; dimensions?: number; truncate?: boolean };

/** Lower-case words; runs of CJK characters become overlapping pairs, as words would. */
export function words(text: string): string[] {
  const out: string[] = [];
  for (const [token] of text.toLowerCase().matchAll(/[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]+|[\p{L}\p{N}]+/gu)) {
    if (/^[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u.test(token)) {
      for (let i = 0; i < Math.max(1, token.length - 1); i++) out.push(token.slice(i, i + 2));
    } else out.push(token.length > 3 && token.endsWith("s") ? token.slice(0, -1) : token);
  }
  return out;
}

/**
 * The stand-in's embedding of a text: each word hashed (FNV-1a) to a signed dimension, counts
 * dampened (1 + ln n), the vector scaled to length 1. Deterministic; texts sharing words are near.
 */
export function standInEmbedding(text: string, length: number): number[] {
  const counts = new Map<number, number>();
  for (const word of words(text)) {
    let hash = 0x811c9dc5;
    for (let i = 0; i < word.length; i++) hash = Math.imul(hash ^ word.charCodeAt(i), 0x01000193) >>> 0;
    const key = (hash % length) * (hash & 0x80000000 ? -1 : 1) || 0;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const vector = new Array<number>(length).fill(0);
  for (const [key, count] of counts) vector[Math.abs(key)]! += Math.sign(key || 1) * (1 + Math.log(count));
  const norm = Math.hypot(...vector);
  if (norm === 0) vector[0] = 1;
  return norm === 0 ? vector : vector.map((value) => value / norm);
}

function behaviourOnce(b: Behaviour): Behaviour {
  if (b.failWith?.times !== undefined) {
    const failWith = b.failWith;
    if (failWith.times === 0) return { ...b, failWith: undefined };
    failWith.times = (failWith.times ?? 1) - 1;
  }
  return b;
}

function tagOf(m: StandInModel) {
  return {
    name: m.name,
    model: m.name,
    modified_at: "2026-10-01T12:00:00Z",
    size: m.size,
    digest: `sha256:${Buffer.from(m.name).toString("hex").padEnd(64, "0").slice(0, 64)}`,
    details: { parent_model: "", format: "gguf", family: m.family, families: [m.family], parameter_size: m.parameterSize, quantization_level: m.quantization },
  };
}

export function lastUserMessage(call: ChatCall): string {
  return [...(call.messages ?? [])].reverse().find((m) => m.role === "user")?.content ?? "";
}

/** A text in two pieces (as a model streams a tool call's arguments). */
export function halves(text: string): string[] {
  const middle = Math.ceil(text.length / 2);
  return [text.slice(0, middle), text.slice(middle)].filter(Boolean);
}

export function tokens(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

export function promptTokens(call: ChatCall): number {
  return (call.messages ?? []).reduce((sum, m) => sum + tokens(m.content ?? "").length, 0);
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
  res.end(JSON.stringify(body));
}

/** The whole request body as text. */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

export function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
