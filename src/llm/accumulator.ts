import { LlmError, toLlmError, type ErrorContext } from "./errors.js";
import { StreamWatch, type StreamLimits } from "./streamWatch.js";
import { splitThinking } from "./thinking.js";
import type { ChatDelta, ChatRequest, ChatResult } from "./types.js";

export type StreamEnd = { model?: string; promptTokens?: number; completionTokens?: number; finishReason?: string };

/**
 * Collects one streamed answer, whatever the wire format: feeds the deadlines, forwards deltas,
 * and turns the end (or a failure) into a ChatResult (or an LlmError that says what happened).
 */
export class StreamAccumulator {
  readonly watch: StreamWatch;
  private content = "";
  private reasoning = "";
  private pieces = 0;

  constructor(
    private readonly request: ChatRequest,
    limits: StreamLimits,
    private readonly context: ErrorContext,
  ) {
    this.watch = new StreamWatch(limits, request.signal);
  }

  add(delta: ChatDelta): void {
    if (!delta.content && !delta.thinking) return;
    this.pieces++;
    this.watch.token();
    if (delta.content) this.content += delta.content;
    if (delta.thinking) this.reasoning += delta.thinking;
    this.request.onDelta?.(delta);
  }

  finish(end: StreamEnd): ChatResult {
    // The openai SDK ends a stream quietly when its signal aborts: a deadline or a cancel is still a failure.
    if (this.watch.signal.aborted) throw this.fail(this.watch.signal.reason);
    this.watch.dispose();
    const inline = splitThinking(this.content);
    return {
      text: inline.answer,
      thinking: [this.reasoning.trim(), inline.thinking].filter(Boolean).join("\n"),
      model: end.model ?? this.request.model,
      promptTokens: end.promptTokens,
      completionTokens: end.completionTokens,
      finishReason: end.finishReason,
      timeToFirstTokenMs: this.watch.timeToFirstTokenMs,
      durationMs: this.watch.elapsedMs,
    };
  }

  fail(error: unknown): LlmError {
    this.watch.dispose();
    const ours = this.watch.failure(this.context.provider, this.request.model);
    if (ours) return ours;
    const mapped = toLlmError(error, { ...this.context, model: this.request.model });
    if (this.pieces > 0 && mapped.kind === "unreachable") {
      return new LlmError(
        "interrupted",
        `The connection to ${this.context.provider} at ${this.context.baseUrl} broke after ${this.pieces} streamed pieces of '${this.request.model}'s answer.`,
        { provider: this.context.provider, model: this.request.model },
      );
    }
    return mapped;
  }
}
