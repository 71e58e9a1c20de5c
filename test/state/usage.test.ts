import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { StateStore } from "../../src/state/store.js";
import { UsageRecorder } from "../../src/state/usage.js";
import { engines } from "../support/engines.js";

describe.each(engines())("usage per token, model and day on $name", (engine) => {
  let state: StateStore;
  let now = new Date("2026-11-27T23:59:00Z");
  const clock = () => now;
  beforeAll(async () => {
    state = new StateStore({ ...(await engine.open()), onPoolError: () => undefined });
  });
  afterAll(async () => {
    await state.close();
    await engine.close();
  });

  it("sums requests and tokens in memory and writes them in one statement, adding to what is there", async () => {
    const usage = new UsageRecorder(state, { retentionDays: 30, flushMs: 60_000 }, clock);
    usage.add({ owner: "token:a", model: "qwen3:4b", inputTokens: 10, outputTokens: 20 });
    usage.add({ owner: "token:a", model: "qwen3:4b", inputTokens: 1, outputTokens: 2 });
    usage.add({ owner: "token:b", model: "openai/gpt-4o-mini", inputTokens: 5, outputTokens: 7 });
    await usage.flush();
    usage.add({ owner: "token:a", model: "qwen3:4b", inputTokens: 100, outputTokens: 200 });
    now = new Date("2026-11-28T00:01:00Z");
    usage.add({ owner: "token:a", model: "qwen3:4b", inputTokens: 3, outputTokens: 4 });
    await usage.flush();
    expect(await usage.report({ days: 2 })).toEqual([
      { day: "2026-11-28", owner: "*", model: "qwen3:4b", requests: 1, inputTokens: 3, outputTokens: 4 },
      { day: "2026-11-27", owner: "*", model: "openai/gpt-4o-mini", requests: 1, inputTokens: 5, outputTokens: 7 },
      { day: "2026-11-27", owner: "*", model: "qwen3:4b", requests: 3, inputTokens: 111, outputTokens: 222 },
    ]);
    const byToken = await usage.report({ days: 1, byOwner: true });
    expect(byToken.map((r) => [r.day, r.owner, r.model, r.requests])).toEqual([["2026-11-28", "token:a", "qwen3:4b", 1]]);
  });

  it("writes on its own after flushMs, without a request waiting for it", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const usage = new UsageRecorder(state, { retentionDays: 30, flushMs: 5_000 }, clock);
      usage.add({ owner: "token:c", model: "gemma3:12b", inputTokens: 2, outputTokens: 3 });
      expect(await usage.report({ days: 1, byOwner: true })).not.toContainEqual(expect.objectContaining({ owner: "token:c" }));
      await vi.advanceTimersByTimeAsync(5_000);
      await usage.flush();
      expect(await usage.report({ days: 1, byOwner: true })).toContainEqual(expect.objectContaining({ owner: "token:c", model: "gemma3:12b", inputTokens: 2 }));
    } finally {
      vi.useRealTimers();
    }
  });

  it("keeps the sums of a failed write for the next one, and drops rows older than the retention", async () => {
    const errors: unknown[] = [];
    const broken = new StateStore({ dataDir: "", databaseUrl: "postgres://nobody@127.0.0.1:1/none", onPoolError: () => undefined });
    const failing = new UsageRecorder(broken, { retentionDays: 30, flushMs: 60_000, onError: (e) => errors.push(e) }, clock);
    failing.add({ owner: "token:d", model: "qwen3:4b", inputTokens: 1, outputTokens: 1 });
    await failing.flush();
    expect(errors).toHaveLength(1);
    expect((failing as unknown as { pending: Map<string, unknown> }).pending.size).toBe(1);
    await failing.flush();
    await broken.close();
    const usage = new UsageRecorder(state, { retentionDays: 1 }, clock);
    await state.maintain(new Date("2026-11-30T00:00:00Z"));
    expect(await usage.report({ days: 10 })).toEqual([]);
  });
});
