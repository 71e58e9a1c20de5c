import { redactText, StreamRedactor } from "../../secrets.js";
import type { ClientEvent, StreamDialect, Usage } from "../stream.js";

type Delta = Record<string, unknown> & { tool_calls?: Array<{ index?: number; function?: { arguments?: unknown } }> };
type Choice = { index?: number; delta?: Delta | null; finish_reason?: string | null };

/** The text fields of a chat completion delta, whichever a vendor uses for reasoning. */
const TEXT_FIELDS = ["content", "reasoning", "reasoning_content", "refusal"] as const;

const choicesOf = (event: ClientEvent) => (Array.isArray(event.data.choices) ? (event.data.choices as Choice[]) : []);

function carriesAnswer(choice: Choice): boolean {
  const delta = choice.delta ?? {};
  return (
    Boolean(choice.finish_reason) || TEXT_FIELDS.some((field) => typeof delta[field] === "string" && delta[field] !== "") || (delta.tool_calls?.length ?? 0) > 0
  );
}

/**
 * OpenAI's chat completion chunks, as relayed to the client. `showUsage`: the client asked for
 * `stream_options.include_usage`; the server always asks the upstream for it (usage is recorded
 * per token), and drops the usage-only chunk the client did not ask for.
 */
export class ChatChunkDialect implements StreamDialect {
  readonly name = "openai" as const;
  readonly trailer = "data: [DONE]\n\n";
  private readonly redactors = new Map<string, StreamRedactor>();
  private last: Record<string, unknown> = {};

  constructor(private readonly showUsage: boolean) {}

  isPreamble(event: ClientEvent): boolean {
    return !event.data.usage && !choicesOf(event).some(carriesAnswer);
  }

  readUsage(event: ClientEvent, usage: Usage): void {
    const reported = event.data.usage as { prompt_tokens?: unknown; completion_tokens?: unknown } | null | undefined;
    if (typeof reported?.prompt_tokens === "number") usage.inputTokens = reported.prompt_tokens;
    if (typeof reported?.completion_tokens === "number") usage.outputTokens = reported.completion_tokens;
  }

  shows(event: ClientEvent): boolean {
    return this.showUsage || choicesOf(event).length > 0 || !event.data.usage;
  }

  redact(event: ClientEvent): ClientEvent[] {
    this.last = event.data;
    for (const choice of choicesOf(event)) {
      const index = choice.index ?? 0;
      if (!choice.delta) choice.delta = {};
      const delta = choice.delta;
      for (const field of TEXT_FIELDS) if (typeof delta[field] === "string") delta[field] = this.push(event, `${index}:${field}`, delta[field] as string);
      for (const call of delta.tool_calls ?? []) {
        if (typeof call.function?.arguments === "string")
          call.function.arguments = this.push(event, `${index}:tool:${call.index ?? 0}`, call.function.arguments);
      }
      if (choice.finish_reason && this.release(index, delta)) event.raw = undefined;
    }
    return [event];
  }

  flush(): ClientEvent[] {
    const choices = new Map<number, Delta>();
    for (const key of this.redactors.keys()) {
      const index = Number(key.slice(0, key.indexOf(":")));
      if (!choices.has(index)) choices.set(index, {});
      this.release(index, choices.get(index)!);
    }
    const pieces = [...choices].filter(([, delta]) => Object.keys(delta).length > 0);
    if (pieces.length === 0) return [];
    const { id, object, created, model } = this.last;
    return [{ data: { id, object, created, model, choices: pieces.map(([index, delta]) => ({ index, delta, finish_reason: null })) } }];
  }

  /** Text held back for choice `index` goes into `delta` (its finishing chunk, or the flush chunk); true if there was any. */
  private release(index: number, delta: Delta): boolean {
    let released = false;
    for (const [key, redactor] of this.redactors) {
      const [owner, field, tool] = key.split(":");
      if (Number(owner) !== index || !redactor.holding) continue;
      const rest = redactor.end();
      released = true;
      if (field === "tool") {
        delta.tool_calls = [...(delta.tool_calls ?? []), { index: Number(tool), function: { arguments: rest } }];
      } else delta[field!] = `${typeof delta[field!] === "string" ? delta[field!] : ""}${rest}`;
    }
    return released;
  }

  /** `text` as it may go out now; the event's raw text no longer stands for it if that changed it. */
  private push(event: ClientEvent, key: string, text: string): string {
    let redactor = this.redactors.get(key);
    if (!redactor) {
      // Choices and tool calls are few; past this many only whole secrets are hidden (memory stays bounded).
      if (this.redactors.size >= 256) return redactText(text);
      redactor = new StreamRedactor();
      this.redactors.set(key, redactor);
    }
    const out = redactor.push(text);
    if (out !== text) event.raw = undefined;
    return out;
  }
}
