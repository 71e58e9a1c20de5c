import type { ChatRequest } from "../types.js";

export type CallCaps = { maxOutputTokens: number; maxNumCtx: number; maxKeepAliveMs: number };

/** Ollama's keep_alive in ms: a number is seconds, a string a duration; negative means "forever". */
export function keepAliveMs(value: string | number): number {
  if (typeof value === "number") return value < 0 ? Infinity : value * 1000;
  const match = /^(-?\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!match) return Infinity;
  const amount = Number(match[1]);
  if (amount < 0) return Infinity;
  return amount * { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[(match[2] ?? "s") as "ms" | "s" | "m" | "h"];
}

/**
 * Holds a call's knobs to what the server allows: `max_tokens` to LLM_MAX_OUTPUT_TOKENS, `num_ctx`
 * to OLLAMA_MAX_NUM_CTX and the model's own context length where known, `keep_alive` (including
 * "forever") to OLLAMA_MAX_KEEP_ALIVE_MS. Returns the call to send and a note for each change.
 */
export function clampCall<T extends Pick<ChatRequest, "maxTokens" | "numCtx" | "keepAlive">>(
  call: T,
  caps: CallCaps,
  contextLength: number | undefined,
): { call: T; notes: string[] } {
  const notes: string[] = [];
  const next = { ...call };
  if (next.maxTokens !== undefined && next.maxTokens > caps.maxOutputTokens) {
    notes.push(`max_tokens ${next.maxTokens} lowered to ${caps.maxOutputTokens} (LLM_MAX_OUTPUT_TOKENS)`);
    next.maxTokens = caps.maxOutputTokens;
  }
  if (next.numCtx !== undefined) {
    const limit = Math.min(caps.maxNumCtx, contextLength ?? Infinity);
    if (next.numCtx > limit) {
      notes.push(`num_ctx ${next.numCtx} lowered to ${limit} (${limit === caps.maxNumCtx ? "OLLAMA_MAX_NUM_CTX" : "the model's context length"})`);
      next.numCtx = limit;
    }
  }
  if (next.keepAlive !== undefined && keepAliveMs(next.keepAlive) > caps.maxKeepAliveMs) {
    const seconds = Math.floor(caps.maxKeepAliveMs / 1000);
    notes.push(`keep_alive ${JSON.stringify(next.keepAlive)} lowered to ${seconds}s (OLLAMA_MAX_KEEP_ALIVE_MS)`);
    next.keepAlive = `${seconds}s`;
  }
  return { call: next, notes };
}
