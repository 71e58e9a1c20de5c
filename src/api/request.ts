import type { IncomingMessage } from "node:http";
import type { z } from "zod";
import { ApiError } from "./errors.js";

/**
 * The request body as JSON. The front door has already capped its size (413); this reads it once
 * more with the same cap, for a reader that never trusts what came before it.
 */
export async function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new ApiError(413, `The request body is larger than ${maxBytes} bytes (MAX_BODY_BYTES).`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") throw new ApiError(400, "The request has no body: send a JSON object.");
  if (nestingDepth(text) > MAX_DEPTH) throw new ApiError(400, `The request body nests deeper than ${MAX_DEPTH} levels; no API request needs that.`);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ApiError(400, `The request body is not valid JSON: ${(error as Error).message.slice(0, 200)}`);
  }
}

/** Deeper JSON than any real request has; serialising far deeper structures overflows the stack. */
const MAX_DEPTH = 64;

/** The deepest nesting of objects and arrays in a JSON text (strings skipped), in one linear pass. */
export function nestingDepth(json: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // a backslash escapes the next character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) deepest = Math.max(deepest, ++depth);
    else if (c === 125 || c === 93) depth--;
  }
  return deepest;
}

/** Checks a body against its schema; the first problems are named with their path, as the APIs do. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.slice(0, 3).map((issue) => `${issue.path.join(".") || "body"}: ${issue.message}`);
  throw new ApiError(400, problems.join("; "), { param: parsed.error.issues[0]?.path.join(".") });
}

/** Keys whose values are not prompt text: media (base64 images, URLs), structure (roles, types, ids), opaque signatures. */
const SKIPPED_KEYS = new Set(["data", "url", "image_url", "input_audio", "source", "role", "type", "id", "tool_use_id", "tool_call_id", "signature"]);

/**
 * The characters of prompt text in these values (strings anywhere inside, media and structure
 * left out), for MAX_PROMPT_CHARS. Walks with its own stack, so no nesting depth can overflow it.
 */
export function promptChars(...values: unknown[]): number {
  const stack: unknown[] = [...values];
  let total = 0;
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === "string") total += value.length;
    else if (Array.isArray(value)) for (const inner of value) stack.push(inner);
    else if (value && typeof value === "object") {
      for (const [key, inner] of Object.entries(value)) if (!SKIPPED_KEYS.has(key)) stack.push(inner);
    }
  }
  return total;
}

export function refuseLongPrompt(chars: number, maxPromptChars: number): void {
  if (chars > maxPromptChars) {
    throw new ApiError(
      400,
      `The prompt has ${chars} characters; this server takes at most ${maxPromptChars} (MAX_PROMPT_CHARS). Shorten the conversation (or compact it), or raise MAX_PROMPT_CHARS.`,
      {
        code: "context_length_exceeded",
      },
    );
  }
}
