import { type ErrorContext, LlmError } from "../llm/errors.js";
import { LineSplitter, MAX_LINE_CHARS } from "../llm/streaming/lines.js";

/** One server-sent event: its `event:` name if it had one, and its `data:` lines joined. */
export type SseEvent = { event: string | undefined; data: string };

/** No upstream answer this server relays is near this large; past it the upstream is cut off. */
export const MAX_UPSTREAM_BYTES = 16 * 1024 * 1024;

/**
 * The events of an upstream's text/event-stream body, as they complete. Each byte is looked at
 * once; a line past 1 MiB, an event past 1 MiB of data, or a body past MAX_UPSTREAM_BYTES ends the
 * stream with an error rather than being held.
 */
export async function* sseEvents(body: AsyncIterable<Uint8Array>, context: ErrorContext): AsyncGenerator<SseEvent> {
  const lines = new LineSplitter();
  let bytes = 0;
  let name: string | undefined;
  let data: string[] = [];
  let dataChars = 0;
  function* take(line: string): Generator<SseEvent> {
    const text = line.endsWith("\r") ? line.slice(0, -1) : line;
    if (text === "") {
      if (data.length > 0) yield { event: name, data: data.join("\n") };
      name = undefined;
      data = [];
      dataChars = 0;
      return;
    }
    if (text.startsWith(":")) return;
    const colon = text.indexOf(":");
    const field = colon === -1 ? text : text.slice(0, colon);
    const value = colon === -1 ? "" : text.slice(colon + (text[colon + 1] === " " ? 2 : 1));
    if (field === "event") name = value;
    else if (field === "data") {
      dataChars += value.length;
      if (dataChars > MAX_LINE_CHARS) throw tooLarge(context, "an event larger than 1 MiB");
      data.push(value);
    }
  }
  for await (const chunk of body) {
    bytes += chunk.length;
    if (bytes > MAX_UPSTREAM_BYTES) throw tooLarge(context, `more than ${MAX_UPSTREAM_BYTES} bytes`);
    for (const line of lines.push(chunk)) yield* take(line);
  }
  for (const line of lines.end()) yield* take(line);
  yield* take("");
}

function tooLarge(context: ErrorContext, what: string): LlmError {
  return new LlmError("provider_error", `${context.provider} at ${context.baseUrl} sent ${what}; the answer was cut off there.`, {
    provider: context.provider,
    model: context.model,
  });
}

/** One event as written to the client: `event:` (Anthropic names every event) and one `data:` line. */
export function formatEvent(event: string | undefined, data: unknown): string {
  const payload = typeof data === "string" ? data : JSON.stringify(data);
  return event ? `event: ${event}\ndata: ${payload}\n\n` : `data: ${payload}\n\n`;
}

/** Parses an event's data as a JSON object; anything else from an upstream is a broken stream. */
export function eventJson(event: SseEvent, context: ErrorContext): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(event.data);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new LlmError("provider_error", `${context.provider} at ${context.baseUrl} sent a stream event that is not a JSON object.`, {
    provider: context.provider,
    model: context.model,
  });
}
