import { LlmError } from "./errors.js";
import type { ProviderName } from "./types.js";

/**
 * One signal for a provider call: aborted by the caller (client cancel) or by the total deadline.
 * `explain` turns an abort into the right LlmError afterwards.
 */
export function callDeadline(totalMs: number, callerSignal: AbortSignal | undefined) {
  const timeout = AbortSignal.timeout(totalMs);
  const signal = callerSignal ? AbortSignal.any([callerSignal, timeout]) : timeout;
  return {
    signal,
    explain(provider: ProviderName, model: string): LlmError | undefined {
      if (timeout.aborted) {
        return new LlmError(
          "timeout",
          `${provider} model '${model}' did not finish within ${totalMs} ms (LLM_TOTAL_TIMEOUT_MS). Raise LLM_TOTAL_TIMEOUT_MS for slow models.`,
          { provider, model },
        );
      }
      if (callerSignal?.aborted) return new LlmError("cancelled", "The request was cancelled before the model answered.", { provider, model });
      return undefined;
    },
  };
}
