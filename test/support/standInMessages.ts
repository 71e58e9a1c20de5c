import type { ServerResponse } from "node:http";
import { type ChatCall, halves, json, type OllamaStandIn, promptTokens, sleep, tokens } from "./ollamaStandIn.js";

/**
 * The stand-in's POST /v1/messages: Ollama's Anthropic-compatible endpoint (since 0.14), as
 * Anthropic documents the answer. Streamed: `message_start`, `ping`, then for each block
 * `content_block_start`, its deltas (`thinking_delta`, `text_delta`, `input_json_delta`) and
 * `content_block_stop`, then `message_delta` (stop reason, usage) and `message_stop`. Errors use
 * Anthropic's `{"type": "error", ...}` shape, mid-stream as an `error` event.
 */

type Block = Record<string, unknown> & { type?: string };

export type MessagesCall = {
  model?: string;
  max_tokens?: number;
  system?: string | Block[];
  messages?: Array<{ role: string; content: string | Block[] }>;
  stream?: boolean;
  thinking?: { type: string };
  tools?: unknown[];
};

const blockText = (block: Block): string => {
  if (block.type === "text") return String(block.text ?? "");
  if (block.type === "tool_result")
    return `[tool_result ${String(block.tool_use_id)}] ${typeof block.content === "string" ? block.content : JSON.stringify(block.content)}`;
  if (block.type === "tool_use") return `[tool_use ${String(block.name)} ${JSON.stringify(block.input)}]`;
  return "";
};

/** The request as the stand-in's `reply` sees every chat: roles and plain text. */
export function asChatCall(call: MessagesCall): ChatCall {
  const text = (content: string | Block[]) => (typeof content === "string" ? content : content.map(blockText).filter(Boolean).join("\n"));
  const system = call.system === undefined ? [] : [{ role: "system", content: text(call.system) }];
  return {
    model: call.model ?? "",
    messages: [...system, ...(call.messages ?? []).map((m) => ({ role: m.role, content: text(m.content) }))],
    tools: call.tools,
  };
}

const event = (type: string, data: Record<string, unknown> = {}) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

export async function anthropicMessages(standIn: OllamaStandIn, res: ServerResponse, call: MessagesCall): Promise<void> {
  if (!standIn.find(call?.model)) return json(res, 404, { type: "error", error: { type: "not_found_error", message: `model '${call?.model}' not found` } });
  const chat = asChatCall(call);
  const answer = standIn.reply(chat);
  const thinking = call.thinking?.type === "disabled" ? [] : tokens(answer.thinking ?? "");
  const content = tokens(answer.content);
  const toolUses = (answer.toolCalls ?? []).map((c, i) => ({ type: "tool_use", id: c.id ?? `toolu_standin_${i}`, name: c.name, input: c.arguments }));
  const usage = { input_tokens: promptTokens(chat), output_tokens: thinking.length + content.length + toolUses.length };
  const stop_reason = toolUses.length > 0 ? "tool_use" : "end_turn";
  const id = "msg_standin";
  await sleep(standIn.behaviour.firstTokenDelayMs);
  if (!call.stream) {
    const blocks = [
      ...(thinking.length ? [{ type: "thinking", thinking: answer.thinking, signature: "" }] : []),
      ...(content.length ? [{ type: "text", text: answer.content }] : []),
      ...toolUses,
    ];
    return json(res, 200, { id, type: "message", role: "assistant", model: call.model, content: blocks, stop_reason, stop_sequence: null, usage });
  }
  res.writeHead(200, { "content-type": "text/event-stream" });
  const message = {
    id,
    type: "message",
    role: "assistant",
    model: call.model,
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: usage.input_tokens, output_tokens: 0 },
  };
  res.write(event("message_start", { message }) + event("ping"));
  // One unit a token; a unit that opens a block first closes the one before.
  const units: string[] = [];
  let index = -1;
  const open = (block: Record<string, unknown>) => {
    const stop = index >= 0 ? event("content_block_stop", { index }) : "";
    index++;
    return stop + event("content_block_start", { index, content_block: block });
  };
  const delta = (d: Record<string, unknown>) => event("content_block_delta", { index, delta: d });
  for (const [i, piece] of thinking.entries())
    units.push((i === 0 ? open({ type: "thinking", thinking: "", signature: "" }) : "") + delta({ type: "thinking_delta", thinking: piece }));
  for (const [i, piece] of content.entries()) units.push((i === 0 ? open({ type: "text", text: "" }) : "") + delta({ type: "text_delta", text: piece }));
  for (const tool of toolUses) {
    for (const [i, part] of halves(JSON.stringify(tool.input)).entries())
      units.push((i === 0 ? open({ ...tool, input: {} }) : "") + delta({ type: "input_json_delta", partial_json: part }));
  }
  const failed = (text: string) => event("error", { error: { type: "api_error", message: text } });
  if (!(await standIn.streamPieces(res, units, (unit) => unit, failed))) return;
  const end = index >= 0 ? event("content_block_stop", { index }) : "";
  res.end(end + event("message_delta", { delta: { stop_reason, stop_sequence: null }, usage: { output_tokens: usage.output_tokens } }) + event("message_stop"));
}
