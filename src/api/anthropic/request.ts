import type { IncomingMessage } from "node:http";
import { z } from "zod";
import { ApiError } from "../errors.js";

const block = z.looseObject({ type: z.string().max(64) });
const content = z.union([z.string(), z.array(block)]);
const textBlock = z.looseObject({ type: z.literal("text"), text: z.string() });

/** What /v1/messages and /v1/messages/count_tokens share. Unknown fields are kept: a pass-through sends them on. */
const common = {
  model: z.string().min(1).max(256),
  messages: z.array(z.looseObject({ role: z.enum(["user", "assistant", "system"]), content })).min(1),
  system: z.union([z.string(), z.array(textBlock)]).optional(),
  tools: z.array(z.looseObject({ name: z.string().min(1).max(256), type: z.string().max(64).optional(), description: z.string().optional() })).optional(),
  tool_choice: z
    .looseObject({ type: z.enum(["auto", "any", "tool", "none"]), name: z.string().optional(), disable_parallel_tool_use: z.boolean().optional() })
    .optional(),
  thinking: z.looseObject({ type: z.string().max(32), budget_tokens: z.number().int().optional() }).optional(),
};

export const messagesRequest = z.looseObject({
  ...common,
  max_tokens: z.number().int().min(1),
  stream: z.boolean().optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().min(0).optional(),
  stop_sequences: z.array(z.string().max(1_000)).max(64).optional(),
});

export type MessagesRequest = z.infer<typeof messagesRequest>;

export const countTokensRequest = z.looseObject(common);

/** A version of the Messages API is a date (2023-06-01, 2026-10-21, ...). */
const VERSION = /^\d{4}-\d{2}-\d{2}$/;
const BETA_LIST = /^\s*[A-Za-z0-9._-]{1,100}(\s*,\s*[A-Za-z0-9._-]{1,100}){0,63}\s*$/;

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * `anthropic-version` is required, as at Anthropic, and must be a version (a date); every version
 * is answered with the fields they all share, as Ollama does (the SDKs of 2026 send 2026-10-21, of
 * before 2023-06-01). `anthropic-beta` must be a list of feature names; they are accepted and
 * ignored (the features they unlock at Anthropic, prompt caching among them, are not offered here),
 * so a client that sends new ones keeps working.
 */
export function checkAnthropicHeaders(req: IncomingMessage): void {
  const version = header(req, "anthropic-version");
  if (version === undefined) throw new ApiError(400, "anthropic-version: header is required (e.g. 2023-06-01).");
  if (!VERSION.test(version.trim()))
    throw new ApiError(400, `anthropic-version: ${JSON.stringify(version.slice(0, 40))} is not a version of the Messages API (a date such as 2023-06-01).`);
  const beta = header(req, "anthropic-beta");
  if (beta !== undefined && !BETA_LIST.test(beta)) throw new ApiError(400, "anthropic-beta: expected a comma-separated list of feature names.");
}
