import { randomUUID } from "node:crypto";
import { UserError, type Context, type FastMCP, type FastMCPSessionAuth, type ToolParameters } from "fastmcp";
import type { z } from "zod";
import type { AppContext } from "../app.js";
import { STDIO_CALLER, type Caller } from "../caller.js";
import { requestScope } from "../lifecycle.js";
import { LlmError } from "../llm/errors.js";
import { redactDeep, redactText, cutRedacted } from "../secrets.js";

/** What a tool call touched, filled in by the tool, written as one log line per call. */
export type CallRecord = {
  provider?: string;
  model?: string;
  promptTokens?: number;
  completionTokens?: number;
};

export type ToolOutput = { text: string; structured: Record<string, unknown> };

/** fastmcp's tool context, with the call's combined cancel signal and the caller it belongs to. */
export type ToolContext = Context<FastMCPSessionAuth> & { caller: Caller };

export type ToolDefinition<P extends ToolParameters> = {
  name: string;
  description: string;
  parameters: P;
  annotations?: { readOnlyHint?: boolean; openWorldHint?: boolean; idempotentHint?: boolean; title?: string };
  run(args: z.infer<P>, context: ToolContext, record: CallRecord): Promise<ToolOutput>;
};

/** Registers a tool whose result is text plus structuredContent, whose failures are `isError` results, and whose every call is logged. */
export function registerTool<P extends ToolParameters>(server: FastMCP, app: AppContext, tool: ToolDefinition<P>): void {
  server.addTool({
    name: tool.name,
    description: tool.description,
    parameters: tool.parameters,
    annotations: tool.annotations,
    execute: async (args, context) => {
      const requestId = randomUUID();
      const record: CallRecord = {};
      const started = performance.now();
      const logLine = (outcome: string, extra: Record<string, unknown> = {}) => {
        const latencyMs = Math.round(performance.now() - started);
        app.metrics.toolCall({ tool: tool.name, provider: record.provider, model: record.model, outcome, seconds: latencyMs / 1000 });
        app.logger.info({ requestId, tool: tool.name, ...record, latencyMs, outcome, ...extra }, "tool call");
      };
      const scope = requestScope.getStore();
      const release = scope?.holdSession() ?? (() => undefined);
      try {
        const signal = AbortSignal.any([context.signal, app.stopping.signal, ...(scope ? [scope.signal] : [])]);
        const caller = scope?.caller ?? STDIO_CALLER;
        const output = await app.inFlight.track(tool.run(args as z.infer<P>, { ...context, signal, caller }, record));
        logLine("ok");
        return { content: [{ type: "text" as const, text: redactText(output.text) }], structuredContent: redactDeep(output.structured) };
      } catch (error) {
        const failure = app.stopping.signal.aborted
          ? { kind: "shutting_down", message: "The server is shutting down, so this call was cancelled. Reconnect and try again in a moment." }
          : describeFailure(error);
        logLine("error", { errorKind: failure.kind });
        throw new UserError(redactText(failure.message), redactDeep({ error: failure }));
      } finally {
        release();
        // The client cancelled: the SDK writes no answer, so end the stream that waits for one.
        if (context.signal.aborted && !app.stopping.signal.aborted) scope?.endResponse();
      }
    },
  });
}

function describeFailure(error: unknown): { kind: string; message: string; provider?: string; model?: string } {
  if (error instanceof LlmError) {
    return { kind: error.kind, message: error.message, provider: error.details.provider, model: error.details.model };
  }
  if (error instanceof UserError) return { kind: "invalid_request", message: error.message };
  const message = error instanceof Error ? error.message : String(error);
  return { kind: "internal", message: `Unexpected failure: ${cutRedacted(message, 300)}` };
}

/** Refuses prompts over MAX_PROMPT_CHARS before anything is sent to a model. */
export function refuseLongPrompt(app: AppContext, ...texts: Array<string | undefined>): void {
  const length = texts.reduce((sum, text) => sum + (text?.length ?? 0), 0);
  const limit = app.config.security.maxPromptChars;
  if (length > limit) throw new UserError(`The prompt has ${length} characters; this server takes at most ${limit} (MAX_PROMPT_CHARS). Shorten it or split the task.`);
}
