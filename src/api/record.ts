import type { Usage } from "./stream.js";

export type ApiRoute = "chat_completions" | "messages" | "count_tokens" | "models";

/** What one request did, filled in as it goes, for its one log line, its metric sample and its usage row. */
export type ApiRecord = {
  route: ApiRoute;
  requestId: string;
  requested?: string;
  stream?: boolean;
  provider?: string;
  model?: string;
  usage?: Usage;
  timeToFirstTokenMs?: number;
  retries?: number;
  fellBackFrom?: string[];
  adjustments?: string[];
  /** A failure after the answer had begun (the stream was ended with an error event). */
  failure?: unknown;
};
