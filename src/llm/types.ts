export type ProviderName = "ollama" | "openai";

export type ChatMessage = { role: "system" | "user" | "assistant"; content: string };

export type ChatRequest = {
  /** The provider's own model name, e.g. `qwen3:4b` (never split on its colon) or `gpt-4o-mini`. */
  model: string;
  messages: ChatMessage[];
  temperature?: number;
  maxTokens?: number;
  signal?: AbortSignal;
};

export type ChatResult = {
  text: string;
  model: string;
  promptTokens: number | undefined;
  completionTokens: number | undefined;
  finishReason: string | undefined;
};

export type ModelSummary = {
  name: string;
  provider: ProviderName;
  sizeBytes?: number;
  parameterSize?: string;
  quantization?: string;
  family?: string;
};

export type Readiness = { ok: true; detail: string } | { ok: false; reason: string };

/** What every model provider offers the tools. Failures are thrown as `LlmError`. */
export interface LlmProvider {
  readonly name: ProviderName;
  /** Whether calls stay on the user's own infrastructure. */
  readonly isLocal: boolean;
  chat(request: ChatRequest): Promise<ChatResult>;
  listModels(signal?: AbortSignal): Promise<ModelSummary[]>;
  /** A cheap check (no generation) that the provider answers and, if given, that `model` exists. */
  checkReady(model: string | undefined, signal: AbortSignal): Promise<Readiness>;
}
