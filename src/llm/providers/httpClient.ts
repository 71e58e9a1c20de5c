import { Agent, type Dispatcher, fetch as undiciFetch, request as undiciRequest } from "undici";

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

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`the answer was larger than ${limit} bytes`);
    this.name = "BodyTooLargeError";
  }
}

/**
 * Reads a whole (non-streamed) body as text, but never more than `maxBytes`: past that the
 * connection is dropped and, when `truncate` is set, what arrived so far is the text; otherwise
 * it is a BodyTooLargeError.
 */
export async function readCapped(body: HttpResponse["body"], maxBytes: number, truncate = false): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      body.destroy();
      if (!truncate) throw new BodyTooLargeError(maxBytes);
      chunks.push(chunk.subarray(0, chunk.length - (size - maxBytes)));
      break;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}
