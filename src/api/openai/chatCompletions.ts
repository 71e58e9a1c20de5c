import { z } from "zod";
import { LlmError } from "../../llm/errors.js";
import type { ResolvedModel } from "../../llm/gateway/router.js";
import { cutRedacted } from "../../secrets.js";
import { type ExchangeRequest, exchange, type Plan, type StreamDecoder, upstreamJson } from "../exchange.js";
import { resolveModel } from "../models.js";
import type { ApiRecord } from "../record.js";
import { parseBody, promptChars, readJson, refuseLongPrompt } from "../request.js";
import type { ApiCall, ApiDeps } from "../serve.js";
import { eventJson, type SseEvent } from "../sse.js";
import type { Usage } from "../stream.js";
import { ChatChunkDialect } from "./stream.js";

const request = z.looseObject({
  model: z.string().min(1).max(256),
  messages: z.array(z.looseObject({ role: z.string().max(32) })).min(1),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
  max_tokens: z.number().int().min(1).nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
});

type ChatRequest = z.infer<typeof request>;

/** Lowers max_tokens / max_completion_tokens to LLM_MAX_OUTPUT_TOKENS, saying so. */
function clampOutput(body: ChatRequest, cap: number): { body: ChatRequest; notes: string[] } {
  const notes: string[] = [];
  const next = { ...body };
  for (const field of ["max_tokens", "max_completion_tokens"] as const) {
    const value = next[field];
    if (typeof value === "number" && value > cap) {
      notes.push(`${field} ${value} lowered to ${cap} (LLM_MAX_OUTPUT_TOKENS)`);
      next[field] = cap;
    }
  }
  return { body: next, notes };
}

function usageOf(completion: Record<string, unknown>): Usage {
  const usage = completion.usage as { prompt_tokens?: unknown; completion_tokens?: unknown } | undefined;
  return {
    inputTokens: typeof usage?.prompt_tokens === "number" ? usage.prompt_tokens : undefined,
    outputTokens: typeof usage?.completion_tokens === "number" ? usage.completion_tokens : undefined,
  };
}

/**
 * One upstream chunk of a chat completion stream: undefined for `[DONE]`, the chunk otherwise; an
 * error chunk (which some servers send with status 200 mid-stream) is thrown as an LlmError.
 */
export function readChunk(event: SseEvent, target: ResolvedModel): Record<string, unknown> | undefined {
  if (event.data.trim() === "[DONE]") return undefined;
  const data = eventJson(event, { provider: target.provider.name, baseUrl: "", model: target.model });
  const failure = data.error as { message?: unknown } | string | undefined;
  if (failure !== undefined && failure !== null) {
    const message = typeof failure === "string" ? failure : String(failure.message ?? "no details");
    throw new LlmError("provider_error", `${target.provider.name} failed mid-answer: ${cutRedacted(message, 300)}`, {
      provider: target.provider.name,
      model: target.model,
    });
  }
  return data;
}

/** OpenAI's chunks relayed as they are; [DONE] or a finish reason ends the answer. */
function chunkRelay(target: ResolvedModel, dialect: ChatChunkDialect): StreamDecoder {
  let done = false;
  let finished = false;
  return {
    dialect,
    get complete() {
      return done || finished;
    },
    decode(event) {
      const data = readChunk(event, target);
      if (!data) {
        done = true;
        return [];
      }
      if ((data.choices as Array<{ finish_reason?: unknown }> | undefined)?.some((choice) => choice.finish_reason)) finished = true;
      return [{ data, raw: event.data }];
    },
    finish: () => [],
  };
}

/**
 * POST /v1/chat/completions: relayed to the provider's own chat completions endpoint (Ollama's
 * /v1/chat/completions, or the OpenAI-compatible cloud's), model name resolved, output capped.
 */
export async function chatCompletions(deps: ApiDeps, call: ApiCall, record: ApiRecord): Promise<void> {
  const parsed = parseBody(request, await readJson(call.req, deps.limits.maxBodyBytes));
  record.requested = parsed.model;
  record.stream = parsed.stream === true;
  refuseLongPrompt(promptChars(parsed.messages), deps.limits.maxPromptChars);
  const primary = await resolveModel(deps, parsed.model);
  const { body, notes } = clampOutput(parsed, deps.limits.maxOutputTokens);
  record.adjustments = notes;
  const stream = parsed.stream === true;
  const showUsage = parsed.stream_options?.include_usage === true;
  const plan = (target: ResolvedModel): Plan => {
    // Ollama's endpoint reads max_tokens only, and without it generates until the context is full.
    const capped = target.provider.name === "ollama" ? { max_tokens: body.max_tokens ?? body.max_completion_tokens ?? deps.limits.maxOutputTokens } : {};
    const streamOptions = stream ? { stream_options: { ...body.stream_options, include_usage: true } } : {};
    const wireBody = { ...body, ...capped, ...streamOptions, model: target.model };
    if (stream) return { wire: "chat/completions", body: wireBody, decoder: chunkRelay(target, new ChatChunkDialect(showUsage)) };
    return { wire: "chat/completions", body: wireBody, convert: (text) => ({ text, usage: usageOf(upstreamJson(text, target)) }) };
  };
  const headers: ExchangeRequest["headers"] = notes.length > 0 ? { "x-mcp-lab-adjusted": notes.join("; ") } : {};
  await exchange(deps, { res: call.res, owner: call.caller.id, primary, stream, headers, plan }, record);
}
