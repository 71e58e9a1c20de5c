import { EventEmitter } from "node:events";
import type { ServerResponse } from "node:http";
import { describe, expect, it } from "vitest";
import { type ExchangeDeps, exchange } from "../../src/api/exchange.js";
import type { ApiRecord } from "../../src/api/record.js";
import { LlmError } from "../../src/llm/errors.js";
import type { LlmGateway } from "../../src/llm/gateway/gateway.js";
import type { ResolvedModel } from "../../src/llm/gateway/router.js";

describe("exchange", () => {
  it("cancels at once for a client that left before the exchange began (its close event has passed)", async () => {
    const res = Object.assign(new EventEmitter(), { destroyed: true, writableFinished: false, headersSent: false }) as unknown as ServerResponse;
    let cancelledAtStart: boolean | undefined;
    const gateway = {
      exchange: async (_primary: unknown, call: { signal: AbortSignal }) => {
        cancelledAtStart = call.signal.aborted;
        throw new LlmError("cancelled", "The request was cancelled.", { provider: "ollama" });
      },
    } as unknown as LlmGateway;
    const deps: ExchangeDeps = { gateway, streamLimits: { firstTokenMs: 1_000, idleMs: 1_000, totalMs: 1_000 }, stopping: new AbortController().signal };
    const primary = { provider: { name: "ollama" }, model: "qwen3:4b", qualifiedName: "qwen3:4b" } as unknown as ResolvedModel;
    const record: ApiRecord = { route: "chat_completions", requestId: "r" };
    const request = { res, owner: "token:a", primary, stream: false, headers: {}, plan: () => ({}) as never };
    await expect(exchange(deps, request, record)).rejects.toThrow("The request was cancelled.");
    expect(cancelledAtStart).toBe(true);
  });
});
