import { cutRedacted } from "../secrets.js";
import { type HttpResponse, readCapped } from "./providers/httpClient.js";
import type { ProviderName } from "./types.js";

export type LlmErrorKind =
  | "model_not_found"
  | "unreachable"
  | "timeout"
  | "cancelled"
  | "interrupted"
  | "not_allowed"
  | "queue_full"
  | "not_configured"
  | "auth"
  | "rate_limited"
  | "bad_request"
  | "provider_error";

/**
 * A provider failure, with a message that tells the user what to do next. Its message may quote a
 * provider's answer: everything that sends it out (tool results, /ready, logs) redacts it there.
 */
export class LlmError extends Error {
  constructor(
    readonly kind: LlmErrorKind,
    message: string,
    readonly details: { provider: ProviderName; model?: string; status?: number; retryAfterMs?: number },
  ) {
    super(message);
    this.name = "LlmError";
  }
}

export type ErrorContext = { provider: ProviderName; model?: string; baseUrl: string };

const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "EPIPE",
]);

/** Finds a system error code such as ECONNREFUSED anywhere in an error's cause chain. */
export function networkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 6; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && CONNECTION_CODES.has(code)) return code;
    const nested = (current as { errors?: unknown[] }).errors;
    if (Array.isArray(nested)) {
      const inner = nested.map(networkCode).find(Boolean);
      if (inner) return inner;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export function unreachable(context: ErrorContext, code: string | undefined): LlmError {
  const hint =
    context.provider === "ollama"
      ? "Start Ollama with `ollama serve` (or start its container), or set OLLAMA_BASE_URL to where it listens."
      : "Check OPENAI_BASE_URL and your network.";
  return new LlmError("unreachable", `Could not reach ${context.provider} at ${context.baseUrl}${code ? ` (${code})` : ""}. ${hint}`, context);
}

export function modelNotFound(context: ErrorContext & { model: string }): LlmError {
  const hint =
    context.provider === "ollama"
      ? `Pull it with \`ollama pull ${context.model}\`, or call list_models to see what is installed.`
      : "Call list_models to see the model ids this provider offers.";
  return new LlmError("model_not_found", `Model '${context.model}' was not found on ${context.provider} at ${context.baseUrl}. ${hint}`, {
    ...context,
    status: 404,
  });
}

/** The message in an error body: Ollama's `{"error": "..."}`, OpenAI's `{"error": {"message": "..."}}`, or the text itself. */
export function errorBodyMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; message?: unknown };
    const error = parsed.error as { message?: unknown } | string | undefined;
    const message = typeof error === "string" ? error : typeof error?.message === "string" ? error.message : parsed.message;
    if (typeof message === "string") return cutRedacted(message, 300);
  } catch {
    // not JSON: the raw text
  }
  return cutRedacted(body.trim(), 300);
}

/** Maps a provider's non-2xx answer into an LlmError: 404 model not found, 401/403, 429 (with Retry-After), other 4xx, 5xx. */
export function httpStatusError(status: number, message: string, retryAfterMs: number | undefined, context: ErrorContext): LlmError {
  const details = { provider: context.provider, model: context.model, status, retryAfterMs };
  const said = message || "no details";
  if (status === 404 && /not found/i.test(message) && context.model) return modelNotFound({ ...context, model: context.model });
  if (status === 401 || status === 403) {
    const variable = context.provider === "openai" ? "OPENAI_API_KEY" : "the provider's credentials";
    return new LlmError("auth", `${context.provider} refused the credentials (${status}: ${said}). Check ${variable}.`, details);
  }
  if (status === 429) return new LlmError("rate_limited", `${context.provider} is rate limiting requests (429: ${said}). Try again shortly.`, details);
  if (status >= 400 && status < 500) return new LlmError("bad_request", `${context.provider} rejected the request (${status}: ${said}).`, details);
  return new LlmError("provider_error", `${context.provider} failed (${status}: ${said}).`, details);
}

/** A provider's non-2xx answer, read to the end, as an LlmError in the provider's own words. */
export async function responseError(response: HttpResponse, context: ErrorContext): Promise<LlmError> {
  const message = errorBodyMessage(await readCapped(response.body, 65_536, true));
  const retryAfter = response.headers["retry-after"]; // undici gives a repeated header as an array
  return httpStatusError(response.statusCode, message, parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter), context);
}

/** Maps anything a provider call threw into an LlmError. */
export function toLlmError(error: unknown, context: ErrorContext): LlmError {
  if (error instanceof LlmError) return error;
  const details = { provider: context.provider, model: context.model };
  const name = (error as { name?: string })?.name;
  if (name === "AbortError") return new LlmError("cancelled", "The request was cancelled before the model answered.", details);
  if (name === "TimeoutError") return new LlmError("timeout", `${context.provider} at ${context.baseUrl} did not answer in time.`, details);
  const code = networkCode(error);
  if (code) return unreachable(context, code);
  const cause = (error as { cause?: unknown })?.cause;
  const message =
    [error, cause]
      .filter((e) => e instanceof Error)
      .map((e) => (e as Error).message)
      .join(": ") || String(error);
  return new LlmError("provider_error", `${context.provider} call failed: ${cutRedacted(message, 300)}`, details);
}
