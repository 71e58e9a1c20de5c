import { type ErrorContext, LlmError, toLlmError } from "../errors.js";
import type { ChatDelta, ChatRequest, ChatResult } from "../types.js";
import { type StreamLimits, StreamWatch } from "./streamWatch.js";
import { InlineThinking, splitThinking } from "./thinking.js";

export type StreamEnd = { model?: string; promptTokens?: number; completionTokens?: number; finishReason?: string };

/** When a request sets no cap of its own: enough for any answer a client can take. */
const DEFAULT_MAX_CHARS = 1_000_000;

/**
 * Collects one streamed answer, whatever the wire format: feeds the deadlines, separates inline
 * `<think>` reasoning from the answer as it arrives (so `onDelta` never passes reasoning off as
 * answer), and turns the end (or a failure) into a ChatResult (or an LlmError that says what
 * happened). It keeps at most `maxAnswerChars` of answer and as much reasoning: once the answer is
 * full, `full` turns true and the reader stops and drops the upstream request.
 */
export class StreamAccumulator {
  readonly watch: StreamWatch;
  private answer = "";
  private reasoning = "";
  private readonly inline = new InlineThinking();
  private sawInlineThinking = false;
  private pieces = 0;
  private readonly maxChars: number;

  constructor(
    private readonly request: ChatRequest,
    limits: StreamLimits,
    private readonly context: ErrorContext,
  ) {
    this.watch = new StreamWatch(limits, request.signal);
    this.maxChars = request.maxAnswerChars ?? DEFAULT_MAX_CHARS;
  }

  /** The answer has passed its cap: stop reading, the rest would be cut anyway. */
  get full(): boolean {
    return this.answer.length > this.maxChars;
  }

  add(delta: ChatDelta): void {
    if (!delta.content && !delta.thinking) return;
    this.pieces++;
    this.watch.token();
    const inline = delta.content ? this.inline.push(delta.content) : { answer: "", thinking: "" };
    if (inline.thinking) this.sawInlineThinking = true;
    this.keep(inline.answer, [delta.thinking, inline.thinking].filter(Boolean).join(""));
  }

  finish(end: StreamEnd): ChatResult {
    // The openai SDK ends a stream quietly when its signal aborts: a deadline or a cancel is still a failure.
    if (this.watch.signal.aborted && !this.full) throw this.fail(this.watch.signal.reason);
    this.watch.dispose();
    const rest = this.inline.end();
    this.keep(rest.answer, rest.thinking);
    // A template that opened the tag in the prompt leaves only `</think>` in the output.
    const lone = !this.sawInlineThinking && this.answer.includes("</think>") ? splitThinking(this.answer) : undefined;
    return {
      text: lone ? lone.answer : this.answer,
      thinking: [this.reasoning.trim(), lone?.thinking ?? ""].filter(Boolean).join("\n"),
      model: end.model ?? this.request.model,
      promptTokens: end.promptTokens,
      completionTokens: end.completionTokens,
      finishReason: this.full ? "length" : end.finishReason,
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

  private keep(answer: string, thinking: string): void {
    const room = this.maxChars + 1;
    if (answer && this.answer.length < room) this.answer += answer.slice(0, room - this.answer.length);
    if (thinking && this.reasoning.length < room) this.reasoning += thinking.slice(0, room - this.reasoning.length);
    if (answer || thinking) this.request.onDelta?.({ content: answer || undefined, thinking: thinking || undefined });
  }
}
