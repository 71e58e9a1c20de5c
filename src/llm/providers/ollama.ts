import { toLlmError } from "../errors.js";
import type { StreamLimits } from "../streaming/streamWatch.js";
import type { ChatRequest, ChatResult, LlmProvider, ModelSummary, Readiness, WireApi, WireResponse } from "../types.js";
import type { HttpClient } from "./httpClient.js";
import { chat, type EmbedRequest, type EmbedResult, embed, type OllamaEndpoint, type PullProgress, pull, requestJson } from "./ollamaApi.js";
import { olderThan, relayRequest, tooOld } from "./relay.js";

/** The first Ollama release that serves each wire API (OpenAI compatibility: 0.1.24; Anthropic's messages: 0.14.0). */
const WIRE_SINCE: Record<WireApi, string> = { "chat/completions": "0.1.24", messages: "0.14.0" };

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

export type OllamaOptions = { baseUrl: string; http: HttpClient; limits: StreamLimits; pullLimits: StreamLimits };

/** Ollama, through its native API only (/api/chat, /api/embed, /api/tags, /api/show, /api/pull, /api/generate). */
export class OllamaProvider implements LlmProvider {
  readonly name = "ollama" as const;
  readonly isLocal = true;
  readonly wireApis: readonly WireApi[] = ["chat/completions", "messages"];
  private readonly endpoint: OllamaEndpoint;
  private readonly contextLengths = new Map<string, number>();

  constructor(private readonly options: OllamaOptions) {
    this.endpoint = { baseUrl: options.baseUrl, http: options.http };
  }

  get baseUrl(): string {
    return this.options.baseUrl;
  }

  chat(request: ChatRequest): Promise<ChatResult> {
    return chat(this.endpoint, request, this.options.limits);
  }

  /**
   * Ollama's own /v1/chat/completions and /v1/messages. A 404 that is not about the model means the
   * route is missing: the answer then names the version this Ollama runs and the one it needs.
   */
  relay(api: WireApi, body: Record<string, unknown>, signal: AbortSignal): Promise<WireResponse> {
    const path = `/v1/${api}`;
    const context = { provider: this.name, baseUrl: this.options.baseUrl, model: typeof body.model === "string" ? body.model : undefined };
    const explain = async (status: number, message: string) => {
      if (status !== 404 || /model/i.test(message)) return undefined;
      const version = await this.version(signal).catch(() => undefined);
      return version === undefined || olderThan(version, WIRE_SINCE[api]) !== false ? tooOld(context, path, version, WIRE_SINCE[api]) : undefined;
    };
    return relayRequest(this.options.http, { url: `${this.options.baseUrl}${path}`, context, explain }, body, signal);
  }

  /** GET /api/version: what this Ollama says it is (a string of at most 64 characters). */
  async version(signal?: AbortSignal): Promise<string | undefined> {
    const body = (await requestJson(this.endpoint, "GET", "/api/version", undefined, this.deadline(signal))) as { version?: unknown };
    return typeof body.version === "string" ? body.version.slice(0, 64) : undefined;
  }

  /** POST /api/embed for a batch of texts, bounded by the whole-call limit (LLM_TOTAL_TIMEOUT_MS) as well as by `signal`. */
  embed(request: EmbedRequest, signal?: AbortSignal): Promise<EmbedResult> {
    const limit = AbortSignal.timeout(this.options.limits.totalMs);
    return embed(this.endpoint, request, signal ? AbortSignal.any([signal, limit]) : limit);
  }

  async listModels(signal?: AbortSignal): Promise<ModelSummary[]> {
    const body = (await requestJson(this.endpoint, "GET", "/api/tags", undefined, this.deadline(signal))) as { models?: OllamaTag[] };
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
    const body = (await requestJson(this.endpoint, "POST", "/api/show", { model }, this.deadline(signal))) as OllamaShow;
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
    return pull(this.endpoint, model, this.options.pullLimits, signal, onProgress);
  }

  /** Loads a model into memory without generating: Ollama's documented preload is an empty prompt. */
  async warm(model: string, keepAlive: string | undefined): Promise<void> {
    await requestJson(
      this.endpoint,
      "POST",
      "/api/generate",
      { model, prompt: "", stream: false, ...(keepAlive && { keep_alive: keepAlive }) },
      this.deadline(undefined),
    );
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

  /** A request that is not streamed gets the caller's signal, or else the whole-call limit. */
  private deadline(signal: AbortSignal | undefined): AbortSignal {
    return signal ?? AbortSignal.timeout(this.options.limits.totalMs);
  }
}
