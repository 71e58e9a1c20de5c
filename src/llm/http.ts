import { Agent, fetch as undiciFetch } from "undici";

export type HttpClient = {
  /** undici's fetch bound to a keep-alive pool; shaped like the global fetch for the openai SDK. */
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
  return { fetch: boundFetch, close: () => dispatcher.close() };
}
