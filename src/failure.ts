import { LlmError } from "./llm/errors.js";
import { cutRedacted } from "./secrets.js";
import { StateError } from "./state/db.js";

/** Why a call failed, in words the caller can act on: `kind` from a fixed set, `message` says what to do. */
export type Failure = { kind: string; message: string; provider?: string; model?: string };

/** A failure the caller can act on: it becomes an `isError` result whose text is this message. */
export class ToolError extends Error {
  override readonly name = "ToolError";
}

/** A failure already described (a background job's, read back from the store), passed on as it was. */
export class ReportedFailure extends Error {
  override readonly name = "ReportedFailure";

  constructor(readonly failure: Failure) {
    super(failure.message);
  }
}

/** What a caller is told about an error: its kind and a message; anything unexpected is cut and redacted. */
export function describeFailure(error: unknown): Failure {
  if (error instanceof ReportedFailure) return error.failure;
  if (error instanceof LlmError) return { kind: error.kind, message: error.message, provider: error.details.provider, model: error.details.model };
  if (error instanceof ToolError) return { kind: "invalid_request", message: error.message };
  if (error instanceof StateError) return { kind: "state_unavailable", message: error.message };
  const message = error instanceof Error ? error.message : String(error);
  return { kind: "internal", message: `Unexpected failure: ${cutRedacted(message, 300)}` };
}
