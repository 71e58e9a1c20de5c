import { LlmError } from "../../llm/errors.js";
import type { MessagesRequest } from "./request.js";

/**
 * Anthropic's Messages request, translated into an OpenAI chat completions request, for a provider
 * that speaks only the latter (an OpenAI-compatible cloud). Everything with a counterpart is
 * carried over: the system prompt (string or blocks), text and images, tool definitions and
 * tool_choice, tool_use blocks as tool_calls and tool_result blocks as `tool` messages, stop
 * sequences, temperature and top_p. Thinking blocks sent back are dropped (OpenAI's API takes no
 * reasoning in), as are top_k and metadata; a server tool (web search, code execution) has no
 * counterpart and is refused.
 */

type Block = Record<string, unknown> & { type: string };

/** A request with no counterpart: refused like a bad request (no retry; another model in FALLBACK_MODELS may still take it). */
const untranslatable = (message: string) => new LlmError("bad_request", message, { provider: "openai" });
type ChatMessage = Record<string, unknown> & { role: string };

const text = (value: unknown) => (typeof value === "string" ? value : "");

function systemText(system: MessagesRequest["system"]): string {
  if (system === undefined) return "";
  return typeof system === "string" ? system : system.map((block) => block.text).join("\n\n");
}

function imagePart(block: Block): Record<string, unknown> {
  const source = (block.source ?? {}) as Record<string, unknown>;
  if (source.type === "base64") return { type: "image_url", image_url: { url: `data:${text(source.media_type)};base64,${text(source.data)}` } };
  if (source.type === "url") return { type: "image_url", image_url: { url: text(source.url) } };
  throw untranslatable(`An image with source type ${JSON.stringify(source.type)} cannot be sent to an OpenAI-compatible model; send it as base64 or a URL.`);
}

/** A tool_result's content (a string, or text and image blocks) as the text of a `tool` message. */
function toolResultText(block: Block): string {
  const content = block.content;
  const body =
    typeof content === "string"
      ? content
      : Array.isArray(content)
        ? (content as unknown[])
            .map((part) => {
              if (typeof part !== "object" || part === null) throw untranslatable("A tool_result's content is a string or a list of content blocks (objects).");
              const block = part as Block;
              return block.type === "text" ? text(block.text) : `[${String(block.type).slice(0, 40)} omitted]`;
            })
            .join("\n")
        : "";
  return block.is_error === true ? `Error: ${body}` : body;
}

function userMessages(blocks: Block[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  const parts: Array<Record<string, unknown>> = [];
  for (const block of blocks) {
    if (block.type === "tool_result") out.push({ role: "tool", tool_call_id: text(block.tool_use_id), content: toolResultText(block) });
    else if (block.type === "text") parts.push({ type: "text", text: text(block.text) });
    else if (block.type === "image") parts.push(imagePart(block));
    else if (block.type === "document") throw untranslatable("Document blocks cannot be sent to an OpenAI-compatible model; send their text instead.");
  }
  if (parts.length > 0) {
    const onlyText = parts.every((part) => part.type === "text");
    out.push({ role: "user", content: onlyText ? parts.map((part) => part.text).join("\n") : parts });
  }
  return out;
}

function assistantMessage(blocks: Block[]): ChatMessage {
  const said = blocks.filter((block) => block.type === "text").map((block) => text(block.text));
  const calls = blocks
    .filter((block) => block.type === "tool_use")
    .map((block) => ({ id: text(block.id), type: "function", function: { name: text(block.name), arguments: JSON.stringify(block.input ?? {}) } }));
  return { role: "assistant", content: said.length > 0 ? said.join("") : null, ...(calls.length > 0 && { tool_calls: calls }) };
}

function toolsOf(request: MessagesRequest): Record<string, unknown> {
  if (!request.tools?.length) return {};
  const tools = request.tools.map((tool) => {
    if (tool.type !== undefined && tool.type !== "custom") {
      throw untranslatable(
        `Tool ${JSON.stringify(tool.name)} is Anthropic's server tool ${tool.type}; an OpenAI-compatible model cannot run it. Leave it out for this model.`,
      );
    }
    return {
      type: "function",
      function: {
        name: tool.name,
        ...(tool.description !== undefined && { description: tool.description }),
        parameters: tool.input_schema ?? { type: "object" },
      },
    };
  });
  const choice = request.tool_choice;
  const toolChoice =
    choice?.type === "any"
      ? "required"
      : choice?.type === "none"
        ? "none"
        : choice?.type === "tool"
          ? { type: "function", function: { name: choice.name ?? "" } }
          : choice
            ? "auto"
            : undefined;
  return {
    tools,
    ...(toolChoice !== undefined && { tool_choice: toolChoice }),
    ...(choice?.disable_parallel_tool_use === true && { parallel_tool_calls: false }),
  };
}

export function toChatCompletion(request: MessagesRequest, model: string): Record<string, unknown> {
  const system = systemText(request.system);
  const messages: ChatMessage[] = system ? [{ role: "system", content: system }] : [];
  for (const message of request.messages) {
    const blocks: Block[] = typeof message.content === "string" ? [{ type: "text", text: message.content }] : (message.content as Block[]);
    if (message.role === "assistant") messages.push(assistantMessage(blocks));
    else if (message.role === "system") messages.push({ role: "system", content: blocks.map((block) => text(block.text)).join("\n\n") });
    else messages.push(...userMessages(blocks));
  }
  return {
    model,
    messages,
    max_tokens: request.max_tokens,
    ...(request.temperature !== undefined && { temperature: request.temperature }),
    ...(request.top_p !== undefined && { top_p: request.top_p }),
    ...(request.stop_sequences?.length && { stop: request.stop_sequences }),
    ...toolsOf(request),
    ...(request.stream === true && { stream: true, stream_options: { include_usage: true } }),
  };
}
