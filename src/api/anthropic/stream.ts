import { redactText, StreamRedactor } from "../../secrets.js";
import type { ClientEvent, StreamDialect, Usage } from "../stream.js";

/** The delta types that carry text, and the field each carries it in. */
const TEXT_OF: Record<string, string> = { text_delta: "text", thinking_delta: "thinking", input_json_delta: "partial_json" };

const PREAMBLE = new Set(["message_start", "ping", "content_block_start"]);

type Held = { redactor: StreamRedactor; deltaType: string };

/** Anthropic's Messages stream events, as relayed (or translated) to the client. */
export class MessagesEventDialect implements StreamDialect {
  readonly name = "anthropic" as const;
  readonly trailer = "";
  private readonly blocks = new Map<number, Held>();

  isPreamble(event: ClientEvent): boolean {
    return PREAMBLE.has(String(event.data.type));
  }

  readUsage(event: ClientEvent, usage: Usage): void {
    const reported = (event.data.type === "message_start" ? (event.data.message as { usage?: unknown } | undefined)?.usage : event.data.usage) as
      | { input_tokens?: unknown; output_tokens?: unknown; cache_read_input_tokens?: unknown; cache_creation_input_tokens?: unknown }
      | undefined;
    if (!reported || typeof reported !== "object") return;
    if (typeof reported.input_tokens === "number") {
      const cached = [reported.cache_read_input_tokens, reported.cache_creation_input_tokens].reduce<number>(
        (sum, n) => sum + (typeof n === "number" ? n : 0),
        0,
      );
      usage.inputTokens = reported.input_tokens + cached;
    }
    if (typeof reported.output_tokens === "number") usage.outputTokens = reported.output_tokens;
  }

  shows(): boolean {
    return true;
  }

  redact(event: ClientEvent): ClientEvent[] {
    const index = typeof event.data.index === "number" ? event.data.index : 0;
    if (event.data.type === "content_block_delta") {
      const delta = event.data.delta as Record<string, unknown> | undefined;
      const field = TEXT_OF[String(delta?.type)];
      if (delta && field && typeof delta[field] === "string") {
        const text = delta[field] as string;
        delta[field] = this.push(index, String(delta.type), text);
        if (delta[field] !== text) event.raw = undefined;
      }
      return [event];
    }
    if (event.data.type === "content_block_stop") return [...this.release(index), event];
    return [event];
  }

  flush(): ClientEvent[] {
    return [...this.blocks.keys()].flatMap((index) => this.release(index));
  }

  private push(index: number, deltaType: string, text: string): string {
    let held = this.blocks.get(index);
    if (!held) {
      // Blocks are few; past this many only whole secrets are hidden (memory stays bounded).
      if (this.blocks.size >= 256) return redactText(text);
      held = { redactor: new StreamRedactor(), deltaType };
      this.blocks.set(index, held);
    }
    return held.redactor.push(text);
  }

  /** Text held back in block `index` goes out as one more delta before the block ends. */
  private release(index: number): ClientEvent[] {
    const held = this.blocks.get(index);
    this.blocks.delete(index);
    const rest = held?.redactor.end();
    if (!held || !rest) return [];
    return [{ event: "content_block_delta", data: { type: "content_block_delta", index, delta: { type: held.deltaType, [TEXT_OF[held.deltaType]!]: rest } } }];
  }
}
