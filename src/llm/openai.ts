import OpenAI from "openai";
import { LlmError, toLlmError } from "./errors.js";
import type { HttpClient } from "./http.js";
import type { StreamLimits } from "./streamWatch.js";
import { openaiCompatibleChat } from "./openaiChat.js";
import type { ChatRequest, ChatResult, LlmProvider, ModelSummary, Readiness } from "./types.js";

const MISSING_KEY = "OPENAI_API_KEY is not set: set it (in the environment or .env) to use openai/... models.";

/** Any OpenAI-compatible endpoint: OpenAI itself, or another vendor through OPENAI_BASE_URL. */
export class OpenAiProvider implements LlmProvider {
  readonly name = "openai" as const;
  readonly isLocal = false;
  private readonly client: OpenAI | undefined;

  constructor(private readonly options: { baseUrl: string; apiKey: string | undefined; http: HttpClient; limits: StreamLimits }) {
    this.client = options.apiKey
      ? new OpenAI({ baseURL: options.baseUrl, apiKey: options.apiKey, maxRetries: 0, timeout: options.limits.totalMs, fetch: options.http.fetch })
      : undefined;
  }

  private requireClient(model?: string): OpenAI {
    if (!this.client) throw new LlmError("not_configured", MISSING_KEY, { provider: this.name, model });
    return this.client;
  }

  chat(request: ChatRequest): Promise<ChatResult> {
    return openaiCompatibleChat(this.requireClient(request.model), request, {
      provider: this.name,
      baseUrl: this.options.baseUrl,
      limits: this.options.limits,
    });
  }

  async listModels(signal?: AbortSignal): Promise<ModelSummary[]> {
    const client = this.requireClient();
    try {
      const page = await client.models.list({ signal: signal ?? AbortSignal.timeout(this.options.limits.totalMs) });
      return page.data.map((model) => ({ name: model.id, provider: this.name }));
    } catch (error) {
      throw toLlmError(error, { provider: this.name, baseUrl: this.options.baseUrl });
    }
  }

  async checkReady(model: string | undefined, signal: AbortSignal): Promise<Readiness> {
    if (!this.client) return { ok: false, reason: MISSING_KEY };
    try {
      if (model) await this.client.models.retrieve(model, { signal });
      else await this.client.models.list({ signal });
      return { ok: true, detail: `OpenAI-compatible API at ${this.options.baseUrl} answers` };
    } catch (error) {
      return { ok: false, reason: toLlmError(error, { provider: this.name, baseUrl: this.options.baseUrl, model }).message };
    }
  }
}
