import { EventEmitter } from "node:events";
import type { ServerResponse } from "node:http";
import { describe, expect, it } from "vitest";
import { MessagesEventDialect } from "../../src/api/anthropic/stream.js";
import { ApiError } from "../../src/api/errors.js";
import { ChatChunkDialect } from "../../src/api/openai/stream.js";
import { type ClientEvent, ClientStream } from "../../src/api/stream.js";

/** A response that records what is written to it. */
function response() {
  const res = Object.assign(new EventEmitter(), {
    status: 0,
    text: "",
    headersSent: false,
    writableEnded: false,
    destroyed: false,
    writeHead(status: number) {
      res.status = status;
      res.headersSent = true;
      return res;
    },
    write(chunk: string) {
      res.text += chunk;
      return true;
    },
    end(chunk = "") {
      res.text += chunk;
      res.writableEnded = true;
    },
  });
  return res;
}

const anthropic = (type: string, extra: Record<string, unknown> = {}): ClientEvent => ({ event: type, data: { type, ...extra } });
const delta = (text: string) => anthropic("content_block_delta", { index: 0, delta: { type: "text_delta", text } });

describe("the client's side of a streamed answer", () => {
  it("writes nothing until the first piece of the answer, then the held events in order; pings before it are dropped", async () => {
    const res = response();
    const stream = new ClientStream(res as unknown as ServerResponse, { "request-id": "req_1" });
    stream.restart(new MessagesEventDialect());
    await stream.send(anthropic("message_start", { message: { usage: { input_tokens: 7, output_tokens: 0 } } }));
    await stream.send(anthropic("ping"));
    await stream.send(anthropic("content_block_start", { index: 0, content_block: { type: "text", text: "" } }));
    expect([res.status, res.text, stream.committed]).toEqual([0, "", false]);
    await stream.send(delta("Hi"));
    expect(stream.committed).toBe(true);
    expect(res.status).toBe(200);
    expect(
      res.text
        .split("\n\n")
        .filter(Boolean)
        .map((e) => e.split("\n")[0]),
    ).toEqual(["event: message_start", "event: content_block_start", "event: content_block_delta"]);
    await stream.send(anthropic("message_delta", { delta: { stop_reason: "end_turn" }, usage: { output_tokens: 3 } }));
    await stream.end();
    expect(stream.usage).toEqual({ inputTokens: 7, outputTokens: 3 });
    expect(res.writableEnded).toBe(true);
  });

  it("starts each attempt from nothing until it commits, and gives up on a stream that never begins its answer", async () => {
    const res = response();
    const stream = new ClientStream(res as unknown as ServerResponse, {});
    stream.restart(new ChatChunkDialect(false));
    await stream.send({ data: { choices: [{ index: 0, delta: { role: "assistant", content: "" } }] } });
    stream.restart(new MessagesEventDialect());
    await stream.send(delta("after the retry"));
    expect(res.text).not.toContain("role");
    expect(res.text).toContain("after the retry");
    const stalled = new ClientStream(response() as unknown as ServerResponse, {});
    stalled.restart(new MessagesEventDialect());
    let failure: unknown;
    for (let i = 0; i < 100 && !failure; i++) failure = await stalled.send(anthropic("content_block_start", { index: i })).catch((e: unknown) => e);
    expect(String(failure)).toContain("the upstream sent 64 events without any part of an answer");
  });

  it("ends a committed stream that fails with the API's own error event", async () => {
    const res = response();
    const stream = new ClientStream(res as unknown as ServerResponse, {});
    stream.restart(new MessagesEventDialect());
    await stream.send(delta("partial"));
    stream.fail(new ApiError(502, "ollama failed mid-answer: out of memory"));
    expect(res.text.endsWith('event: error\ndata: {"type":"error","error":{"type":"api_error","message":"ollama failed mid-answer: out of memory"}}\n\n')).toBe(
      true,
    );
    const openai = response();
    const chat = new ClientStream(openai as unknown as ServerResponse, {});
    chat.restart(new ChatChunkDialect(false));
    await chat.send({ data: { choices: [{ index: 0, delta: { content: "x" } }] } });
    chat.fail(new ApiError(504, "too slow"));
    expect(openai.text.endsWith('data: {"error":{"message":"too slow","type":"server_error","param":null,"code":null}}\n\n')).toBe(true);
  });
});
