import { LlmError } from "../../llm/errors.js";
import type { ResolvedModel } from "../../llm/gateway/router.js";
import { cutRedacted } from "../../secrets.js";
import { exchange, type Plan, type StreamDecoder, upstreamJson } from "../exchange.js";
import { resolveModel } from "../models.js";
import { readChunk } from "../openai/chatCompletions.js";
import type { ApiRecord } from "../record.js";
import { parseBody, promptChars, readJson, refuseLongPrompt } from "../request.js";
import { sendJsonText } from "../respond.js";
import type { ApiCall, ApiDeps } from "../serve.js";
import { eventJson } from "../sse.js";
import type { Usage } from "../stream.js";
import { ChunkTranslator, messageFromCompletion } from "./fromChat.js";
import { checkAnthropicHeaders, countTokensRequest, type MessagesRequest, messagesRequest } from "./request.js";
import { MessagesEventDialect } from "./stream.js";
import { toChatCompletion } from "./toChat.js";

function usageOf(message: Record<string, unknown>): Usage {
  const usage = message.usage as { input_tokens?: unknown; output_tokens?: unknown } | undefined;
  return {
    inputTokens: typeof usage?.input_tokens === "number" ? usage.input_tokens : undefined,
    outputTokens: typeof usage?.output_tokens === "number" ? usage.output_tokens : undefined,
  };
}

/** Anthropic's events relayed as they are (Ollama's /v1/messages): an `error` event is a failure, message_stop the end. */
function eventRelay(target: ResolvedModel): StreamDecoder {
  let stopped = false;
  return {
    dialect: new MessagesEventDialect(),
    get complete() {
      return stopped;
    },
    decode(event) {
      const data = eventJson(event, { provider: target.provider.name, baseUrl: "", model: target.model });
      if (data.type === "error") {
        const message = String((data.error as { message?: unknown } | undefined)?.message ?? "no details");
        throw new LlmError("provider_error", `${target.provider.name} failed mid-answer: ${cutRedacted(message, 300)}`, {
          provider: target.provider.name,
          model: target.model,
        });
      }
      if (data.type === "message_stop") stopped = true;
      return [{ event: event.event ?? String(data.type), data, raw: event.data }];
    },
    finish: () => [],
  };
}

/** OpenAI's chunks (a cloud's chat completions) translated into Anthropic's events as they arrive. */
function chunkTranslation(target: ResolvedModel): StreamDecoder {
  const translator = new ChunkTranslator(target.qualifiedName);
  let done = false;
  return {
    dialect: new MessagesEventDialect(),
    get complete() {
      return done || translator.finished;
    },
    decode(event) {
      const chunk = readChunk(event, target);
      if (!chunk) {
        done = true;
        return [];
      }
      return translator.push(chunk);
    },
    finish: () => translator.end(),
  };
}

/** Where the upstream speaks Anthropic's API (Ollama), the request goes as it is; elsewhere it is translated. */
function planFor(body: MessagesRequest, stream: boolean, target: ResolvedModel): Plan {
  if (target.provider.wireApis.includes("messages")) {
    const wireBody = { ...body, model: target.model };
    if (stream) return { wire: "messages", body: wireBody, decoder: eventRelay(target) };
    return { wire: "messages", body: wireBody, convert: (text) => ({ text, usage: usageOf(upstreamJson(text, target)) }) };
  }
  const wireBody = toChatCompletion(body, target.model);
  if (stream) return { wire: "chat/completions", body: wireBody, decoder: chunkTranslation(target) };
  return {
    wire: "chat/completions",
    body: wireBody,
    convert: (text) => {
      const message = messageFromCompletion(upstreamJson(text, target), target.qualifiedName);
      return { text: JSON.stringify(message), usage: usageOf(message) };
    },
  };
}

/**
 * POST /v1/messages: Anthropic's Messages API. Relayed to Ollama's own /v1/messages (model name
 * resolved); translated to and from chat completions for an OpenAI-compatible cloud model.
 */
export async function messages(deps: ApiDeps, call: ApiCall, record: ApiRecord): Promise<void> {
  checkAnthropicHeaders(call.req);
  const parsed = parseBody(messagesRequest, await readJson(call.req, deps.limits.maxBodyBytes));
  record.requested = parsed.model;
  record.stream = parsed.stream === true;
  refuseLongPrompt(promptChars(parsed.system, parsed.messages), deps.limits.maxPromptChars);
  const primary = await resolveModel(deps, parsed.model);
  const cap = deps.limits.maxOutputTokens;
  const body = parsed.max_tokens > cap ? { ...parsed, max_tokens: cap } : parsed;
  record.adjustments = body === parsed ? [] : [`max_tokens ${parsed.max_tokens} lowered to ${cap} (LLM_MAX_OUTPUT_TOKENS)`];
  const headers = { "request-id": record.requestId, ...(record.adjustments.length > 0 && { "x-mcp-lab-adjusted": record.adjustments.join("; ") }) };
  const stream = parsed.stream === true;
  await exchange(deps, { res: call.res, owner: call.caller.id, primary, stream, headers, plan: (target) => planFor(body, stream, target) }, record);
}

/** Characters per token for the estimate: about right for English and code with the usual tokenizers. */
const CHARS_PER_TOKEN = 4;

/**
 * POST /v1/messages/count_tokens: an estimate from the characters of the system prompt, messages
 * and tools (Ollama has no count endpoint), good enough for a client deciding when to compact.
 */
export async function countTokens(deps: ApiDeps, call: ApiCall, record: ApiRecord): Promise<void> {
  checkAnthropicHeaders(call.req);
  const parsed = parseBody(countTokensRequest, await readJson(call.req, deps.limits.maxBodyBytes));
  record.requested = parsed.model;
  const target = await resolveModel(deps, parsed.model);
  record.provider = target.provider.name;
  record.model = target.qualifiedName;
  const inputTokens = Math.ceil(promptChars(parsed.system, parsed.messages, parsed.tools) / CHARS_PER_TOKEN);
  sendJsonText(call.res, 200, JSON.stringify({ input_tokens: inputTokens }), { "request-id": record.requestId });
}
