import { describe, expect, it } from "vitest";
import { LineSplitter, LineTooLongError } from "../../../src/llm/streaming/lines.js";
import { ndjsonLines } from "../../../src/llm/streaming/ndjson.js";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("LineSplitter", () => {
  it("joins a line cut into many chunks and splits many lines in one chunk", () => {
    const lines = new LineSplitter();
    expect(lines.push(bytes('{"a"'))).toEqual([]);
    expect(lines.push(bytes(":1}\n{"))).toEqual(['{"a":1}']);
    expect(lines.push(bytes('"b":2}\n\n{"c":3}\n'))).toEqual(['{"b":2}', "", '{"c":3}']);
    expect(lines.push(bytes("tail"))).toEqual([]);
    expect(lines.end()).toEqual(["tail"]);
  });

  it("refuses a line over its cap before holding it whole, in time linear in its length", () => {
    const lines = new LineSplitter(1_048_576);
    const chunk = bytes("x".repeat(64 * 1024));
    let error: unknown;
    let pushed = 0;
    try {
      for (; pushed < 800; pushed++) lines.push(chunk); // 50 MB unless it stops
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(LineTooLongError);
    expect(pushed).toBe(16);
  });

  it("keeps a multi-byte character cut between chunks whole", async () => {
    const encoded = bytes('{"text":"日本語"}\n');
    async function* body() {
      for (const byte of encoded) yield new Uint8Array([byte]);
    }
    const parsed: unknown[] = [];
    for await (const line of ndjsonLines(body())) parsed.push(line);
    expect(parsed).toEqual([{ text: "日本語" }]);
  });
});
