import { randomUUID } from "node:crypto";
import { describeFailure, type Failure } from "../failure.js";
import type { InFlight } from "../lifecycle.js";
import type { Logger } from "../logger.js";
import type { Metrics } from "../metrics.js";
import { redactDeep, redactText } from "../secrets.js";
import type { CallRecord, ToolContext, ToolDefinition, ToolOutput } from "./tool.js";

export type RunnerDeps = { logger: Logger; metrics: Metrics; inFlight: InFlight; stopping: AbortSignal };

export type { Failure };

export type RunOutcome = { ok: true; output: ToolOutput } | { ok: false; failure: Failure };

/**
 * Runs one tool call, whatever transport carried it: counted in flight (a shutdown waits for it),
 * cancelled when the server stops, one log line and one metric sample, and everything it returns
 * or fails with redacted after its last change.
 */
export async function runTool<P extends ToolDefinition>(tool: P, args: unknown, context: ToolContext, deps: RunnerDeps): Promise<RunOutcome> {
  const requestId = randomUUID();
  const record: CallRecord = {};
  const started = performance.now();
  const done = (outcome: string, extra: Record<string, unknown> = {}) => {
    const latencyMs = Math.round(performance.now() - started);
    deps.metrics.toolCall({ tool: tool.name, provider: record.provider, model: record.model, outcome, seconds: latencyMs / 1000 });
    deps.logger.info({ requestId, tool: tool.name, ...record, latencyMs, outcome, ...extra }, "tool call");
  };
  try {
    const signal = AbortSignal.any([context.signal, deps.stopping]);
    const output = await deps.inFlight.track(tool.run(args as never, { ...context, signal }, record));
    done("ok");
    return { ok: true, output: { text: redactText(output.text), structured: redactDeep(output.structured) } };
  } catch (error) {
    const failure = deps.stopping.aborted
      ? { kind: "shutting_down", message: "The server is shutting down, so this call was cancelled. Reconnect and try again in a moment." }
      : describeFailure(error);
    done("error", { errorKind: failure.kind });
    return { ok: false, failure: redactDeep(failure) };
  }
}
