import type { z } from "zod";
import type { Caller } from "../caller.js";
import { ToolError } from "../failure.js";

/** What a tool call touched, filled in by the tool, written as one log line per call. */
export type CallRecord = {
  provider?: string;
  model?: string;
  promptTokens?: number;
  completionTokens?: number;
};

export type ToolOutput = { text: string; structured: Record<string, unknown> };

/** A progress notification: `progress` only ever grows. */
export type Progress = { progress: number; total?: number; message?: string };

/** What a tool is given besides its arguments. Nothing of the MCP framework: tools work with any transport layer. */
export type ToolContext = {
  /** Aborts when the client cancels, goes away, or the server shuts down. */
  signal: AbortSignal;
  /** Who the call belongs to; what the call creates is bound to `caller.id`. */
  caller: Caller;
  /** A no-op for clients that sent no progress token. */
  reportProgress(progress: Progress): Promise<void>;
};

export type ToolDefinition<P extends z.ZodObject = z.ZodObject> = {
  name: string;
  description: string;
  parameters: P;
  annotations?: { readOnlyHint?: boolean; destructiveHint?: boolean; openWorldHint?: boolean; idempotentHint?: boolean; title?: string };
  run(args: z.infer<P>, context: ToolContext, record: CallRecord): Promise<ToolOutput>;
};

/** A failure the caller can act on (an `isError` result whose text is its message); defined with the other failures. */
export { ToolError };

/** Refuses prompts over MAX_PROMPT_CHARS before anything is sent to a model. */
export function refuseLongPrompt(maxPromptChars: number, ...texts: Array<string | undefined>): void {
  const length = texts.reduce((sum, text) => sum + (text?.length ?? 0), 0);
  if (length > maxPromptChars)
    throw new ToolError(`The prompt has ${length} characters; this server takes at most ${maxPromptChars} (MAX_PROMPT_CHARS). Shorten it or split the task.`);
}
