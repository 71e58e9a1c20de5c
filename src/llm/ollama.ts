import OpenAI from "openai";
import { LlmError, toLlmError, modelNotFound } from "./errors.js";
import type { HttpClient } from "./http.js";
import { openaiCompatibleChat } from "./openaiChat.js";
import type { ChatRequest, ChatResult, LlmProvider, ModelSummary, Readiness } from "./types.js";

type OllamaTag = {
  name: string;
  model?: string;
  size?: number;
  digest?: string;
  details?: { family?: string; parameter_size?: string; quantization_level?: string };
};

/** `qwen3` and `qwen3:latest` name the same model; a tag is never split off anything else. */
export function sameOllamaModel(a: string, b: string): boolean {
  const withTag = (name: string) => (/:[^/]*$/.test(name) ? name : `${name}:latest`);
  return withTag(a) === withTag(b);
}

export class OllamaProvider implements LlmProvider {
  readonly name = "ollama" as const;
  readonly isLocal = true;
  private readonly client: OpenAI;

  constructor(
    private readonly options: { baseUrl: string; http: HttpClient; totalTimeoutMs: number },
  ) {
    this.client = new OpenAI({
      baseURL: `${options.baseUrl}/v1`,
      apiKey: "ollama",
      maxRetries: 0,
      timeout: options.totalTimeoutMs,
      fetch: options.http.fetch,
    });
  }

  chat(request: ChatRequest): Promise<ChatResult> {
    return openaiCompatibleChat(this.client, request, {
      provider: this.name,
      baseUrl: this.options.baseUrl,
      totalTimeoutMs: this.options.totalTimeoutMs,
    });
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
    }));
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
  async nativeJson(method: "GET" | "POST", path: string, body?: unknown, signal?: AbortSignal): Promise<unknown> {
    const context = { provider: this.name, baseUrl: this.options.baseUrl, model: (body as { model?: string } | undefined)?.model };
    let response: Response;
    try {
      response = await this.options.http.fetch(`${this.options.baseUrl}${path}`, {
        method,
        headers: body === undefined ? undefined : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: signal ?? AbortSignal.timeout(this.options.totalTimeoutMs),
      });
    } catch (error) {
      throw toLlmError(error, context);
    }
    const text = await response.text();
    if (!response.ok) {
      const message = readOllamaError(text) ?? response.statusText;
      if (response.status === 404 && /not found/i.test(message) && context.model) throw modelNotFound({ ...context, model: context.model });
      throw new LlmError(response.status >= 500 ? "provider_error" : "bad_request", `Ollama answered ${response.status}: ${message}`, {
        provider: this.name,
        model: context.model,
        status: response.status,
      });
    }
    try {
      return JSON.parse(text);
    } catch {
      throw new LlmError("provider_error", `Ollama at ${this.options.baseUrl}${path} answered with something that is not JSON.`, { provider: this.name });
    }
  }
}

function readOllamaError(text: string): string | undefined {
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    return typeof parsed.error === "string" ? parsed.error.slice(0, 300) : undefined;
  } catch {
    return text.slice(0, 300) || undefined;
  }
}
