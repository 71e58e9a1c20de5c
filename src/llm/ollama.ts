import { overHttp, streamChatCompletion, type OpenChunks } from "./chatCompletions.js";
import { LlmError, responseError, toLlmError } from "./errors.js";
import { readCapped, type HttpClient } from "./http.js";
import { nativeChat, pull, type PullProgress } from "./ollamaNative.js";
import type { StreamLimits } from "./streamWatch.js";
import type { ChatRequest, ChatResult, LlmProvider, ModelSummary, Readiness } from "./types.js";

/** Ollama's largest JSON answers (/api/tags with hundreds of models, /api/show with a long license) are well under this. */
const MAX_JSON_BYTES = 16 * 1024 * 1024;

type OllamaTag = {
  name: string;
  size?: number;
  digest?: string;
  details?: { family?: string; parameter_size?: string; quantization_level?: string };
};

type OllamaShow = {
  details?: { family?: string; parameter_size?: string; quantization_level?: string; format?: string };
  model_info?: Record<string, unknown>;
  capabilities?: string[];
};

export type ModelDetails = {
  name: string;
  contextLength: number | undefined;
  parameterSize: string | undefined;
  quantization: string | undefined;
  family: string | undefined;
  capabilities: string[];
};

/** `qwen3` and `qwen3:latest` name the same model; a tag is never split off anything else. */
export function sameOllamaModel(a: string, b: string): boolean {
  const withTag = (name: string) => (/:[^/]*$/.test(name) ? name : `${name}:latest`);
  return withTag(a) === withTag(b);
}

export class OllamaProvider implements LlmProvider {
  readonly name = "ollama" as const;
  readonly isLocal = true;
  private readonly chatCompletions: OpenChunks;
  private readonly contextLengths = new Map<string, number>();

  constructor(private readonly options: { baseUrl: string; http: HttpClient; limits: StreamLimits; pullLimits: StreamLimits }) {
    this.chatCompletions = overHttp(options.http, `${options.baseUrl}/v1`, { provider: this.name, baseUrl: options.baseUrl });
  }

  get baseUrl(): string {
    return this.options.baseUrl;
  }

  /** The OpenAI-compatible /v1 (our own small client) by default; the native /api/chat when an option only it knows is set. */
  chat(request: ChatRequest): Promise<ChatResult> {
    if (request.think !== undefined || request.numCtx !== undefined || request.keepAlive !== undefined) {
      return nativeChat(this.options, request, this.options.limits);
    }
    return streamChatCompletion(this.chatCompletions, request, { provider: this.name, baseUrl: this.options.baseUrl, limits: this.options.limits });
  }

  async listModels(signal?: AbortSignal): Promise<ModelSummary[]> {
    const body = (await this.nativeJson("GET", "/api/tags", undefined, signal)) as { models?: OllamaTag[] };
    return (body.models ?? []).map((tag) => ({
      name: tag.name,
      provider: this.name,
      sizeBytes: tag.size,
      parameterSize: tag.details?.parameter_size,
      quantization: tag.details?.quantization_level,
      family: tag.details?.family,
      ...(tag.digest && { digest: tag.digest }),
    }));
  }

  async show(model: string, signal?: AbortSignal): Promise<ModelDetails> {
    const body = (await this.nativeJson("POST", "/api/show", { model }, signal)) as OllamaShow;
    const contextKey = Object.keys(body.model_info ?? {}).find((key) => key.endsWith(".context_length"));
    const contextLength = contextKey ? Number(body.model_info?.[contextKey]) : undefined;
    return {
      name: model,
      contextLength: Number.isFinite(contextLength) ? contextLength : undefined,
      parameterSize: body.details?.parameter_size,
      quantization: body.details?.quantization_level,
      family: body.details?.family,
      capabilities: body.capabilities ?? [],
    };
  }

  /** From /api/show, asked once per model (a bounded cache); undefined when Ollama cannot say. */
  async contextLength(model: string, signal?: AbortSignal): Promise<number | undefined> {
    if (this.contextLengths.has(model)) return this.contextLengths.get(model);
    const length = await this.show(model, signal).then(
      (info) => info.contextLength,
      () => undefined,
    );
    if (length === undefined) return undefined;
    if (this.contextLengths.size >= 256) this.contextLengths.delete(this.contextLengths.keys().next().value!);
    this.contextLengths.set(model, length);
    return length;
  }

  pull(model: string, signal: AbortSignal | undefined, onProgress: (progress: PullProgress) => void): Promise<void> {
    return pull(this.options, model, this.options.pullLimits, signal, onProgress);
  }

  /** Loads a model into memory without generating: Ollama's documented preload is an empty prompt. */
  async warm(model: string, keepAlive: string | undefined): Promise<void> {
    await this.nativeJson("POST", "/api/generate", { model, prompt: "", stream: false, ...(keepAlive && { keep_alive: keepAlive }) });
  }

  async checkReady(model: string | undefined, signal: AbortSignal): Promise<Readiness> {
    try {
      const models = await this.listModels(signal);
      if (model && !models.some((m) => sameOllamaModel(m.name, model))) {
        return { ok: false, reason: `Ollama at ${this.options.baseUrl} answers, but model '${model}' is not pulled. Run \`ollama pull ${model}\`.` };
      }
      return { ok: true, detail: `Ollama at ${this.options.baseUrl} answers with ${models.length} model(s)` };
    } catch (error) {
      return { ok: false, reason: toLlmError(error, { provider: this.name, baseUrl: this.options.baseUrl }).message };
    }
  }

  /** Ollama's native API, for what its /v1 endpoints lack. */
  private async nativeJson(method: "GET" | "POST", path: string, body?: { model?: string; [key: string]: unknown }, signal?: AbortSignal): Promise<unknown> {
    const context = { provider: this.name, baseUrl: this.options.baseUrl, model: body?.model };
    let text: string;
    try {
      const response = await this.options.http.request(`${this.options.baseUrl}${path}`, {
        method,
        headers: body === undefined ? undefined : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: signal ?? AbortSignal.timeout(this.options.limits.totalMs),
      });
      if (response.statusCode >= 300) throw await responseError(response, context);
      text = await readCapped(response.body, MAX_JSON_BYTES);
    } catch (error) {
      throw toLlmError(error, context);
    }
    try {
      return JSON.parse(text);
    } catch {
      throw new LlmError("provider_error", `Ollama at ${this.options.baseUrl}${path} answered with something that is not JSON.`, { provider: this.name });
    }
  }
}
