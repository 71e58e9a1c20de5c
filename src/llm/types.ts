import type { HttpResponse } from "./providers/httpClient.js";

export type ProviderName = "ollama" | "openai";

export type ChatMessage = { role: "system" | "user" | "assistant"; content: string };

/** `true`/`false` switch reasoning on or off; a level asks for more or less of it. */
export type ThinkSetting = boolean | "low" | "medium" | "high";

export type ChatDelta = { content?: string; thinking?: string };

export type ChatRequest = {
  /** The provider's own model name, e.g. `qwen3:4b` (never split on its colon) or `gpt-4o-mini`. */
  model: string;
  messages: ChatMessage[];
  temperature?: number;
  maxTokens?: number;
  think?: ThinkSetting;
  /** Ollama only: context window in tokens. */
  numCtx?: number;
  /** Ollama only: how long the model stays loaded afterwards, e.g. "10m" or 0. */
  keepAlive?: string | number;
  signal?: AbortSignal;
  /** Stop reading once the answer is longer than this: the rest would be cut anyway (MAX_OUTPUT_CHARS). */
  maxAnswerChars?: number;
  /** Called for every streamed piece of the answer or of the reasoning trace, already told apart. */
  onDelta?: (delta: ChatDelta) => void;
};

export type ChatResult = {
  /** The answer, without any reasoning trace. */
  text: string;
  /** The reasoning trace, empty when the model gave none. */
  thinking: string;
  model: string;
  promptTokens: number | undefined;
  completionTokens: number | undefined;
  finishReason: string | undefined;
  timeToFirstTokenMs: number | undefined;
  durationMs: number;
};

export type ModelSummary = {
  name: string;
  provider: ProviderName;
  sizeBytes?: number;
  parameterSize?: string;
  quantization?: string;
  family?: string;
  digest?: string;
};

export type Readiness = { ok: true; detail: string } | { ok: false; reason: string };

/**
 * A provider's own HTTP API for clients that already speak it (src/api/): OpenAI's chat
 * completions, Anthropic's messages. Separate from `chat` on purpose: the body goes as the client
 * wrote it (model name resolved), and the answer comes back unread, for the caller to relay.
 */
export type WireApi = "chat/completions" | "messages";

/** A 2xx answer to a relayed request: its body still to be read, as bytes (SSE when streamed, else one JSON). */
export type WireResponse = { body: HttpResponse["body"]; baseUrl: string };

/** What every model provider offers the tools. Failures are thrown as `LlmError`. */
export interface LlmProvider {
  readonly name: ProviderName;
  /** Whether calls stay on the user's own infrastructure. */
  readonly isLocal: boolean;
  chat(request: ChatRequest): Promise<ChatResult>;
  listModels(signal?: AbortSignal): Promise<ModelSummary[]>;
  /** A cheap check (no generation) that the provider answers and, if given, that `model` exists. */
  checkReady(model: string | undefined, signal: AbortSignal): Promise<Readiness>;
  /** The model's context length in tokens, where the provider can say (undefined when it cannot). */
  contextLength?(model: string, signal?: AbortSignal): Promise<number | undefined>;
  /** The wire APIs this provider serves as they are. */
  readonly wireApis: readonly WireApi[];
  /** Sends `body` to the provider's own endpoint for `api`; a non-2xx answer is thrown as an LlmError. */
  relay(api: WireApi, body: Record<string, unknown>, signal: AbortSignal): Promise<WireResponse>;
}
