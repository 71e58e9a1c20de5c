import type { ChatCall, GatewayResult, LlmGateway } from "../llm/gateway/gateway.js";
import type { ResolvedModel } from "../llm/gateway/router.js";
import { ProgressReporter, tail } from "./progress.js";
import type { ToolContext } from "./tool.js";

/**
 * One model call through the gateway, streamed, its progress reported as it goes (characters so
 * far and the tail of the answer; `waiting` until the first of them), with a heartbeat every
 * `heartbeatMs`. Returns the result and how long it took.
 */
export async function streamedChat(
  gateway: LlmGateway,
  target: ResolvedModel,
  call: Omit<ChatCall, "onDelta">,
  context: Pick<ToolContext, "reportProgress">,
  progressOptions: { heartbeatMs: number; waiting: string },
): Promise<{ result: GatewayResult; latencyMs: number }> {
  const progress = new ProgressReporter(context.reportProgress, target.qualifiedName, progressOptions.heartbeatMs);
  let answered = "";
  const started = performance.now();
  const result = await gateway
    .chat(target, {
      ...call,
      onDelta: (delta) => {
        answered += delta.content ?? "";
        progress.step(() => (answered ? `${answered.length} chars: ${tail(answered)}` : progressOptions.waiting));
      },
    })
    .finally(() => progress.stop());
  return { result, latencyMs: Math.round(performance.now() - started) };
}
