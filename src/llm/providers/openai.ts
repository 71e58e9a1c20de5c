import type OpenAI from "openai";
import { cutRedacted } from "../../secrets.js";
import { type ErrorContext, httpStatusError, LlmError, networkCode, parseRetryAfter, toLlmError, unreachable } from "../errors.js";
import { type OpenChunks, streamChatCompletion } from "../streaming/chatCompletions.js";
import type { StreamLimits } from "../streaming/streamWatch.js";
import type { ChatRequest, ChatResult, LlmProvider, ModelSummary, Readiness, WireApi, WireResponse } from "../types.js";
import type { HttpClient } from "./httpClient.js";
import { relayRequest } from "./relay.js";

const MISSING_KEY = "OPENAI_API_KEY is not set: set it (in the environment or .env) to use openai/... models.";

type Sdk = typeof import("openai");

/** The openai SDK's errors, in our terms. */
export function fromSdkError(sdk: Sdk, error: unknown, context: ErrorContext): LlmError {
  if (error instanceof sdk.APIUserAbortError) return new LlmError("cancelled", "The request was cancelled before the model answered.", context);
  if (error instanceof sdk.APIConnectionTimeoutError)
    return new LlmError("timeout", `${context.provider} at ${context.baseUrl} did not answer in time.`, context);
  if (error instanceof sdk.APIConnectionError) return unreachable(context, networkCode(error));
  if (error instanceof sdk.APIError && error.status !== undefined) {
    const body = error.error as { message?: unknown; error?: unknown } | undefined;
    const message = typeof body?.message === "string" ? body.message : typeof body?.error === "string" ? body.error : error.message;
    return httpStatusError(error.status, cutRedacted(message, 300), parseRetryAfter(error.headers?.get("retry-after")), context);
  }
  return toLlmError(error, context);
}

/**
 * Any OpenAI-compatible cloud endpoint: OpenAI itself, or another vendor through OPENAI_BASE_URL,
 * through the openai SDK (which follows the API as it changes). The SDK is loaded on the first
 * call, so a server without OPENAI_API_KEY never pays for it.
 */
export class OpenAiProvider implements LlmProvider {
  readonly name = "openai" as const;
  readonly isLocal = false;
  /** OpenAI-compatible vendors speak chat completions; Anthropic's messages are translated for them (src/api). */
  readonly wireApis: readonly WireApi[] = ["chat/completions"];
  private loaded: Promise<{ sdk: Sdk; client: OpenAI }> | undefined;

  constructor(private readonly options: { baseUrl: string; apiKey: string | undefined; http: HttpClient; limits: StreamLimits }) {}

  private load(model?: string): Promise<{ sdk: Sdk; client: OpenAI }> {
    const { apiKey, baseUrl, http, limits } = this.options;
    if (!apiKey) return Promise.reject(new LlmError("not_configured", MISSING_KEY, { provider: this.name, model }));
    this.loaded ??= import("openai").then((sdk) => ({
      sdk,
      client: new sdk.default({ baseURL: baseUrl, apiKey, maxRetries: 0, timeout: limits.totalMs, fetch: http.fetch }),
    }));
    return this.loaded;
  }

  private context(model?: string): ErrorContext {
    return { provider: this.name, baseUrl: this.options.baseUrl, model };
  }

  async chat(request: ChatRequest): Promise<ChatResult> {
    const { sdk, client } = await this.load(request.model);
    const open: OpenChunks = (body, signal) => client.chat.completions.create(body, { signal });
    const context = this.context(request.model);
    return streamChatCompletion(open, request, { ...context, limits: this.options.limits }, (error) => fromSdkError(sdk, error, context));
  }

  /** POST {OPENAI_BASE_URL}/chat/completions with the key, over the shared pool (no SDK: the body and the answer stay as they are). */
  async relay(api: WireApi, body: Record<string, unknown>, signal: AbortSignal): Promise<WireResponse> {
    const model = typeof body.model === "string" ? body.model : undefined;
    const { apiKey, baseUrl, http } = this.options;
    if (api !== "chat/completions") throw new LlmError("bad_request", `${this.name} does not serve /v1/${api}.`, { provider: this.name, model });
    if (!apiKey) throw new LlmError("not_configured", MISSING_KEY, { provider: this.name, model });
    return relayRequest(
      http,
      { url: `${baseUrl}/chat/completions`, headers: { authorization: `Bearer ${apiKey}` }, context: this.context(model) },
      body,
      signal,
    );
  }

  async listModels(signal?: AbortSignal): Promise<ModelSummary[]> {
    const { sdk, client } = await this.load();
    try {
      const page = await client.models.list({ signal: signal ?? AbortSignal.timeout(this.options.limits.totalMs) });
      return page.data.map((model) => ({ name: model.id, provider: this.name }));
    } catch (error) {
      throw fromSdkError(sdk, error, this.context());
    }
  }

  async checkReady(model: string | undefined, signal: AbortSignal): Promise<Readiness> {
    if (!this.options.apiKey) return { ok: false, reason: MISSING_KEY };
    const { sdk, client } = await this.load(model);
    try {
      if (model) await client.models.retrieve(model, { signal });
      else await client.models.list({ signal });
      return { ok: true, detail: `OpenAI-compatible API at ${this.options.baseUrl} answers` };
    } catch (error) {
      return { ok: false, reason: fromSdkError(sdk, error, this.context(model)).message };
    }
  }
}
