import { describe, expect, it } from "vitest";
import { SseDecoder } from "../../src/llm/sse.js";

function collect(...chunks: Array<string | Uint8Array>): string[] {
  const decoder = new SseDecoder();
  const out = chunks.flatMap((chunk) => decoder.push(typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk));
  return [...out, ...decoder.end()];
}

describe("SseDecoder", () => {
  it("yields each event's data however the bytes are split", () => {
    const stream = 'data: {"a":1}\n\ndata: {"b":2}\n\ndata: [DONE]\n\n';
    expect(collect(stream)).toEqual(['{"a":1}', '{"b":2}', "[DONE]"]);
    const split = Array.from(stream, (c) => c);
    expect(collect(...split)).toEqual(['{"a":1}', '{"b":2}', "[DONE]"]);
  });

  it("accepts CRLF, joins multi-line data, skips comments and other fields", () => {
    const stream = ": keep-alive\r\n\r\nevent: message\r\nid: 7\r\ndata:first\r\ndata: second\r\n\r\n";
    expect(collect(stream)).toEqual(["first\nsecond"]);
  });

  it("keeps a character whose UTF-8 bytes arrive in two chunks", () => {
    const bytes = new TextEncoder().encode('data: {"t":"日本"}\n\n');
    expect(collect(bytes.slice(0, 14), bytes.slice(14))).toEqual(['{"t":"日本"}']);
  });

  it("yields a last event that lacks its blank line", () => {
    expect(collect("data: 1\n\ndata: 2")).toEqual(["1", "2"]);
  });
});
