import { describe, expect, it } from "vitest";
import { sseData } from "../../src/llm/sse.js";

async function collect(...chunks: Array<string | Uint8Array>): Promise<string[]> {
  async function* body() {
    for (const chunk of chunks) yield typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
  }
  const out: string[] = [];
  for await (const data of sseData(body())) out.push(data);
  return out;
}

describe("sseData", () => {
  it("yields each event's data however the bytes are split", async () => {
    const stream = 'data: {"a":1}\n\ndata: {"b":2}\n\ndata: [DONE]\n\n';
    expect(await collect(stream)).toEqual(['{"a":1}', '{"b":2}', "[DONE]"]);
    const split = Array.from(stream, (c) => c);
    expect(await collect(...split)).toEqual(['{"a":1}', '{"b":2}', "[DONE]"]);
  });

  it("accepts CRLF, joins multi-line data, skips comments and other fields", async () => {
    const stream = ": keep-alive\r\n\r\nevent: message\r\nid: 7\r\ndata:first\r\ndata: second\r\n\r\n";
    expect(await collect(stream)).toEqual(["first\nsecond"]);
  });

  it("keeps a character whose UTF-8 bytes arrive in two chunks", async () => {
    const bytes = new TextEncoder().encode('data: {"t":"日本"}\n\n');
    expect(await collect(bytes.slice(0, 14), bytes.slice(14))).toEqual(['{"t":"日本"}']);
  });

  it("yields a last event that lacks its blank line", async () => {
    expect(await collect("data: 1\n\ndata: 2")).toEqual(["1", "2"]);
  });
});
