import { Agent, fetch as undiciFetch, request as undiciRequest, type Dispatcher } from "undici";

export type HttpRequest = { method: "GET" | "POST"; headers?: Record<string, string>; body?: string; signal?: AbortSignal };

/** A status, the headers, and a body to read as text or to stream (an async iterable of bytes). */
export type HttpResponse = Dispatcher.ResponseData;

/**
 * One keep-alive pool for every provider call. `request` is what our own clients use (Ollama, and
 * streamed chat completions): undici's lean API, no WHATWG streams. `fetch` is the same pool shaped
 * like the global fetch, for the openai SDK.
 */
export type HttpClient = {
  request(url: string, init: HttpRequest): Promise<HttpResponse>;
  fetch: typeof globalThis.fetch;
  close(): Promise<void>;
};

export function createHttpClient(options: { connectTimeoutMs: number }): HttpClient {
  const dispatcher = new Agent({
    connect: { timeout: options.connectTimeoutMs },
    keepAliveTimeout: 30_000,
    connections: 64,
    // Generation can be silent for a long time (model load, thinking); the call's own deadline governs.
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  const boundFetch = ((input: Parameters<typeof undiciFetch>[0], init?: Parameters<typeof undiciFetch>[1]) =>
    undiciFetch(input, { ...init, dispatcher })) as unknown as typeof globalThis.fetch;
  return {
    request: (url, init) => undiciRequest(url, { ...init, dispatcher }),
    fetch: boundFetch,
    close: () => dispatcher.close(),
  };
}
