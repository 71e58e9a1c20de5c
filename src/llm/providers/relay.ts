import { type ErrorContext, errorBodyMessage, httpStatusError, LlmError, parseRetryAfter, toLlmError } from "../errors.js";
import type { WireResponse } from "../types.js";
import { type HttpClient, readCapped } from "./httpClient.js";

export type RelayTarget = {
  url: string;
  headers?: Record<string, string>;
  context: ErrorContext;
  /** A non-2xx answer the provider wants to explain itself (an Ollama too old for the route, say); undefined for the usual mapping. */
  explain?: (status: number, message: string) => Promise<LlmError | undefined>;
};

/**
 * POSTs a client's request body to a provider's own endpoint over the shared pool and hands back
 * the 2xx answer unread. A non-2xx answer is read (capped) and thrown as an LlmError in the
 * provider's own words, redacted; connection failures are LlmErrors too.
 */
export async function relayRequest(http: HttpClient, target: RelayTarget, body: Record<string, unknown>, signal: AbortSignal): Promise<WireResponse> {
  try {
    const response = await http.request(target.url, {
      method: "POST",
      headers: { "content-type": "application/json", ...target.headers },
      body: JSON.stringify(body),
      signal,
    });
    if (response.statusCode < 300) return { body: response.body, baseUrl: target.context.baseUrl };
    const message = errorBodyMessage(await readCapped(response.body, 65_536, true));
    const explained = await target.explain?.(response.statusCode, message);
    if (explained) throw explained;
    const retryAfter = response.headers["retry-after"];
    throw httpStatusError(response.statusCode, message, parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter), target.context);
  } catch (error) {
    throw toLlmError(error, target.context);
  }
}

/** `0.14.0` < `0.33.2`; anything that is not dotted numbers compares as unknown (undefined). */
export function olderThan(version: string, wanted: string): boolean | undefined {
  const parse = (text: string) => (/^v?\d+(\.\d+)*/.exec(text.trim())?.[0] ?? "").replace(/^v/, "").split(".").filter(Boolean).map(Number);
  const have = parse(version);
  const need = parse(wanted);
  if (have.length === 0) return undefined;
  for (let i = 0; i < Math.max(have.length, need.length); i++) {
    const a = have[i] ?? 0;
    const b = need[i] ?? 0;
    if (a !== b) return a < b;
  }
  return false;
}

/** The error for an endpoint that a provider's version does not serve yet. */
export function tooOld(context: ErrorContext, path: string, version: string | undefined, needed: string): LlmError {
  const have = version ? `is version ${version}` : "does not say its version";
  return new LlmError(
    "provider_error",
    `Ollama at ${context.baseUrl} ${have} and does not serve ${path}, which needs Ollama ${needed} or newer. Upgrade Ollama there.`,
    {
      provider: context.provider,
      model: context.model,
      status: 404,
    },
  );
}
