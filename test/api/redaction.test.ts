import { describe, expect, it } from "vitest";
import { MessagesEventDialect } from "../../src/api/anthropic/stream.js";
import { ChatChunkDialect } from "../../src/api/openai/stream.js";
import type { ClientEvent } from "../../src/api/stream.js";
import { registerSecrets, StreamRedactor } from "../../src/secrets.js";

const KEY = "sk-redaction-test-key-5e1f0c9a77";
registerSecrets([KEY]);

/** Every way to cut a text into two pieces. */
const cuts = (text: string) => Array.from({ length: text.length + 1 }, (_, i) => [text.slice(0, i), text.slice(i)] as const);

describe("a text that arrives in pieces keeps its secrets, wherever the pieces are cut", () => {
  const text = `the key is ${KEY}, done`;

  it("hides a secret split at any point, and passes everything else on in order", () => {
    for (const [a, b] of cuts(text)) {
      const redactor = new StreamRedactor();
      const out = redactor.push(a) + redactor.push(b) + redactor.end();
      expect(out, `cut at ${a.length}`).toBe("the key is (hidden), done");
    }
  });

  it("hides the start of a secret left at the very end", () => {
    const redactor = new StreamRedactor();
    expect(redactor.push(`tail ${KEY.slice(0, 12)}`)).toBe("tail ");
    expect(redactor.holding).toBe(true);
    expect(redactor.end()).toBe("(hidden)");
  });

  it("holds back nothing that cannot be the start of a secret", () => {
    const redactor = new StreamRedactor();
    expect(redactor.push("plain words ")).toBe("plain words ");
    expect(redactor.holding).toBe(false);
  });
});

describe("relayed stream events", () => {
  it("OpenAI chunks: a key split across deltas never leaves, and held text goes out with the finish (a start too short to be a secret as it is)", () => {
    const dialect = new ChatChunkDialect(false);
    const chunk = (delta: Record<string, unknown>, finish: string | null = null): ClientEvent => ({
      data: { id: "c", choices: [{ index: 0, delta, finish_reason: finish }] },
    });
    const events = [
      chunk({ content: `key ${KEY.slice(0, 10)}` }),
      chunk({ content: `${KEY.slice(10)} end` }),
      chunk({ content: " then sk-" }),
      chunk({}, "stop"),
    ];
    const out = events.flatMap((event) => dialect.redact(event));
    const text = out.map((e) => (e.data.choices as Array<{ delta: { content?: string } }>)[0]!.delta.content ?? "").join("");
    expect(text).toBe("key (hidden) end then sk-");
    expect(JSON.stringify(out)).not.toContain(KEY.slice(0, 10));
  });

  it("OpenAI chunks: tool call arguments too; what is still held at the end comes out in one more chunk", () => {
    const dialect = new ChatChunkDialect(true);
    const call = (args: string): ClientEvent => ({
      data: { id: "c", model: "m", choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: args } }] } }] },
    });
    const out = [call(`{"k":"${KEY.slice(0, 20)}`), call(`${KEY.slice(20)}"}`), call(' {"x":"sk-redaction-t')].flatMap((event) => dialect.redact(event));
    const flushed = dialect.flush();
    const args = [...out, ...flushed]
      .map(
        (e) =>
          (e.data.choices as Array<{ delta: { tool_calls?: Array<{ function: { arguments: string } }> } }>)[0]!.delta.tool_calls?.[0]?.function.arguments ?? "",
      )
      .join("");
    expect(args).toBe('{"k":"(hidden)"} {"x":"(hidden)');
    expect(flushed[0]!.data).toMatchObject({ id: "c", model: "m" });
  });

  it("OpenAI chunks: the usage-only chunk is shown only to a client that asked for usage", () => {
    const usageChunk: ClientEvent = { data: { choices: [], usage: { prompt_tokens: 3, completion_tokens: 4 } } };
    expect(new ChatChunkDialect(false).shows(usageChunk)).toBe(false);
    expect(new ChatChunkDialect(true).shows(usageChunk)).toBe(true);
    const usage = { inputTokens: undefined, outputTokens: undefined };
    new ChatChunkDialect(false).readUsage(usageChunk, usage);
    expect(usage).toEqual({ inputTokens: 3, outputTokens: 4 });
  });

  it("Anthropic events: held text goes out as one more delta before its block stops", () => {
    const dialect = new MessagesEventDialect();
    const events: ClientEvent[] = [
      { event: "content_block_start", data: { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } } },
      { event: "content_block_delta", data: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: `a ${KEY.slice(0, 8)}` } } },
      { event: "content_block_delta", data: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: `${KEY.slice(8)} b sk-` } } },
      { event: "content_block_stop", data: { type: "content_block_stop", index: 0 } },
    ];
    const out = events.flatMap((event) => dialect.redact(event));
    expect(out.map((e) => e.data.type)).toEqual([
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
    ]);
    expect(out.map((e) => (e.data.delta as { text?: string } | undefined)?.text ?? "").join("")).toBe("a (hidden) b sk-");
  });
});
