import { type FastMCP, UserError } from "fastmcp";
import { STDIO_CALLER } from "../caller.js";
import { requestScope } from "../lifecycle.js";
import { type RunnerDeps, runTool } from "../tools/runner.js";
import type { ToolDefinition } from "../tools/tool.js";

/**
 * Offers one of our tools through fastmcp: its result is text plus structuredContent, its failures
 * are `isError` results. The HTTP request that carried the call (requestScope) says who called,
 * whether the client went away, and keeps the session from being reaped while the call runs.
 */
export function registerTool(server: FastMCP, deps: RunnerDeps, tool: ToolDefinition): void {
  server.addTool({
    name: tool.name,
    description: tool.description,
    parameters: tool.parameters,
    annotations: tool.annotations,
    execute: async (args, context) => {
      const scope = requestScope.getStore();
      const release = scope?.holdSession() ?? (() => undefined);
      try {
        const signal = scope ? AbortSignal.any([context.signal, scope.signal]) : context.signal;
        const outcome = await runTool(tool, args, { signal, caller: scope?.caller ?? STDIO_CALLER, reportProgress: context.reportProgress }, deps);
        if (!outcome.ok) throw new UserError(outcome.failure.message, { error: outcome.failure });
        return { content: [{ type: "text" as const, text: outcome.output.text }], structuredContent: outcome.output.structured };
      } finally {
        release();
        // The client cancelled: the SDK writes no answer, so end the stream that waits for one.
        if (context.signal.aborted && !deps.stopping.aborted) scope?.endResponse();
      }
    },
  });
}
