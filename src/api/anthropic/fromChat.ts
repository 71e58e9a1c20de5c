import { randomBytes } from "node:crypto";
import { InlineThinking, splitThinking } from "../../llm/streaming/thinking.js";
import type { ClientEvent } from "../stream.js";

/**
 * An OpenAI chat completion (whole, or streamed as chunks) translated into Anthropic's Messages
 * answer: reasoning (`reasoning_content`, `reasoning`, or inline `<think>`) as a thinking block,
 * the text as a text block, each tool call as a tool_use block, usage, and the stop reason.
 */

type ToolCall = { index?: number; id?: string; function?: { name?: string; arguments?: string } };
type Message = { content?: string | null; reasoning?: string | null; reasoning_content?: string | null; tool_calls?: ToolCall[] | null };
type Completion = {
  choices?: Array<{ message?: Message; delta?: Message; finish_reason?: string | null }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
};

const STOP_REASONS: Record<string, string> = {
  stop: "end_turn",
  length: "max_tokens",
  tool_calls: "tool_use",
  function_call: "tool_use",
  content_filter: "refusal",
};

export const messageId = () => `msg_${randomBytes(12).toString("hex")}`;

const stopReason = (finish: string | null | undefined) => STOP_REASONS[finish ?? ""] ?? "end_turn";

function toolInput(args: string | undefined): unknown {
  try {
    const parsed: unknown = JSON.parse(args || "{}");
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

export function messageFromCompletion(completion: Completion, model: string): Record<string, unknown> {
  const choice = completion.choices?.[0];
  const message = choice?.message ?? {};
  const inline = splitThinking(message.content ?? "");
  const thinking = [message.reasoning_content ?? message.reasoning ?? "", inline.thinking].filter(Boolean).join("\n");
  const content: Array<Record<string, unknown>> = [];
  if (thinking) content.push({ type: "thinking", thinking, signature: "" });
  if (inline.answer) content.push({ type: "text", text: inline.answer });
  for (const call of message.tool_calls ?? [])
    content.push({
      type: "tool_use",
      id: call.id || `toolu_${randomBytes(12).toString("hex")}`,
      name: call.function?.name ?? "",
      input: toolInput(call.function?.arguments),
    });
  return {
    id: messageId(),
    type: "message",
    role: "assistant",
    model,
    content,
    stop_reason: stopReason(choice?.finish_reason),
    stop_sequence: null,
    usage: { input_tokens: completion.usage?.prompt_tokens ?? 0, output_tokens: completion.usage?.completion_tokens ?? 0 },
  };
}

type Open = { index: number; kind: "thinking" | "text" | "tool"; tool?: number };

const event = (data: Record<string, unknown>): ClientEvent => ({ event: String(data.type), data });

/** The same, for a stream: each chunk becomes the Messages events it implies, in Anthropic's order. */
export class ChunkTranslator {
  private started = false;
  private open: Open | undefined;
  private next = 0;
  private readonly inline = new InlineThinking();
  private finish: string | null | undefined;
  private usage: Completion["usage"];
  private readonly id = messageId();

  constructor(private readonly model: string) {}

  /** A finish reason has been seen: the answer is complete once the stream ends. */
  get finished(): boolean {
    return this.finish !== undefined && this.finish !== null;
  }

  push(chunk: Completion): ClientEvent[] {
    const out: ClientEvent[] = [];
    if (!this.started) {
      this.started = true;
      const message = {
        id: this.id,
        type: "message",
        role: "assistant",
        model: this.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 0, output_tokens: 0 },
      };
      out.push(event({ type: "message_start", message }));
    }
    if (chunk.usage) this.usage = chunk.usage;
    const choice = chunk.choices?.[0];
    const delta = choice?.delta ?? {};
    const reasoning = delta.reasoning ?? delta.reasoning_content;
    if (reasoning) this.text(out, "thinking", reasoning);
    if (delta.content) {
      const piece = this.inline.push(delta.content);
      if (piece.thinking) this.text(out, "thinking", piece.thinking);
      if (piece.answer) this.text(out, "text", piece.answer);
    }
    for (const call of delta.tool_calls ?? []) this.tool(out, call);
    if (choice?.finish_reason) this.finish = choice.finish_reason;
    return out;
  }

  end(): ClientEvent[] {
    const out: ClientEvent[] = [];
    const rest = this.inline.end();
    if (rest.thinking) this.text(out, "thinking", rest.thinking);
    if (rest.answer) this.text(out, "text", rest.answer);
    this.close(out);
    const usage = { input_tokens: this.usage?.prompt_tokens ?? 0, output_tokens: this.usage?.completion_tokens ?? 0 };
    out.push(event({ type: "message_delta", delta: { stop_reason: stopReason(this.finish), stop_sequence: null }, usage }));
    out.push(event({ type: "message_stop" }));
    return out;
  }

  private text(out: ClientEvent[], kind: "thinking" | "text", piece: string): void {
    if (this.open?.kind !== kind)
      this.start(out, kind === "thinking" ? { type: "thinking", thinking: "", signature: "" } : { type: "text", text: "" }, { kind });
    const delta = kind === "thinking" ? { type: "thinking_delta", thinking: piece } : { type: "text_delta", text: piece };
    out.push(event({ type: "content_block_delta", index: this.open!.index, delta }));
  }

  private tool(out: ClientEvent[], call: ToolCall): void {
    const tool = call.index ?? 0;
    if (this.open?.kind !== "tool" || this.open.tool !== tool) {
      const block = { type: "tool_use", id: call.id || `toolu_${randomBytes(12).toString("hex")}`, name: call.function?.name ?? "", input: {} };
      this.start(out, block, { kind: "tool", tool });
    }
    const args = call.function?.arguments;
    if (args) out.push(event({ type: "content_block_delta", index: this.open!.index, delta: { type: "input_json_delta", partial_json: args } }));
  }

  private start(out: ClientEvent[], block: Record<string, unknown>, open: Omit<Open, "index">): void {
    this.close(out);
    this.open = { ...open, index: this.next++ };
    out.push(event({ type: "content_block_start", index: this.open.index, content_block: block }));
  }

  private close(out: ClientEvent[]): void {
    if (!this.open) return;
    out.push(event({ type: "content_block_stop", index: this.open.index }));
    this.open = undefined;
  }
}
