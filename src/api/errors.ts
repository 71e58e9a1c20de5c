import { LlmError, type LlmErrorKind } from "../llm/errors.js";
import { cutRedacted, redactText } from "../secrets.js";

/** The two APIs this server speaks to coding agents, each with its own error shape. */
export type ApiDialect = "openai" | "anthropic";

/** A refusal or failure to answer with: an HTTP status and a message that says what to do. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: number,
    message: string,
    readonly extra: { code?: string; param?: string; headers?: Record<string, string>; kind?: string } = {},
  ) {
    super(message);
  }

  /** For logs and the outcome label: the LlmError kind when there was one, else the status's class. */
  get kind(): string {
    return this.extra.kind ?? (this.status < 500 ? "invalid_request" : "internal");
  }
}

const ANTHROPIC_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  503: "overloaded_error",
  529: "overloaded_error",
};

const OPENAI_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "invalid_request_error",
  403: "permission_error",
  404: "invalid_request_error",
  413: "invalid_request_error",
  429: "rate_limit_error",
};

/** `{"error": {message, type, param, code}}`, as OpenAI answers. */
export function openAiErrorBody(status: number, message: string, extra: ApiError["extra"] = {}): unknown {
  const code = extra.code ?? (status === 401 ? "invalid_api_key" : status === 429 ? "rate_limit_exceeded" : null);
  return { error: { message: redactText(message), type: OPENAI_TYPES[status] ?? "server_error", param: extra.param ?? null, code } };
}

/** `{"type": "error", "error": {type, message}}`, as Anthropic answers (in a body, and as a stream's `error` event). */
export function anthropicErrorBody(status: number, message: string): unknown {
  return { type: "error", error: { type: ANTHROPIC_TYPES[status] ?? "api_error", message: redactText(message) } };
}

export function errorBody(dialect: ApiDialect, error: ApiError): unknown {
  return dialect === "anthropic" ? anthropicErrorBody(error.status, error.message) : openAiErrorBody(error.status, error.message, error.extra);
}

const STATUS_OF: Record<LlmErrorKind, number> = {
  model_not_found: 404,
  not_allowed: 403,
  bad_request: 400,
  queue_full: 429,
  rate_limited: 429,
  timeout: 504,
  cancelled: 499,
  unreachable: 502,
  interrupted: 502,
  provider_error: 502,
  auth: 502,
  not_configured: 503,
};

/** A provider failure as the client sees it: the upstream's own fault is a 502, ours a 5xx, the caller's a 4xx. */
export function fromLlmError(error: LlmError): ApiError {
  const status = STATUS_OF[error.kind];
  const retryAfter =
    error.kind === "queue_full" || error.kind === "rate_limited" ? Math.max(1, Math.ceil((error.details.retryAfterMs ?? 1_000) / 1000)) : undefined;
  return new ApiError(status, error.message, {
    kind: error.kind,
    code: error.kind === "model_not_found" ? "model_not_found" : undefined,
    headers: retryAfter === undefined ? undefined : { "retry-after": String(retryAfter) },
  });
}

/** Anything thrown while answering, as an ApiError (an unexpected one says only that it was unexpected). */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof LlmError) return fromLlmError(error);
  const message = error instanceof Error ? error.message : String(error);
  return new ApiError(500, `Unexpected failure: ${cutRedacted(message, 300)}`, { kind: "internal" });
}

/** A request cut short by the server's own shutdown. */
export const SHUTTING_DOWN = new ApiError(503, "The server is shutting down, so this request was cancelled. Try again in a moment.", {
  kind: "shutting_down",
  headers: { "retry-after": "1" },
});
