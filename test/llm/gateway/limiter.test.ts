import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ConcurrencyLimiter } from "../../../src/llm/gateway/limiter.js";

/** A call that runs until `finish()` is called. */
function pending() {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { work: () => done, finish };
}

describe("ConcurrencyLimiter", () => {
  it("gives a freed slot to the caller with the fewest calls running, not to the longest queue", async () => {
    const limiter = new ConcurrencyLimiter("ollama", { concurrency: 2, queueMax: 10, queueMaxPerOwner: 10, queueTimeoutMs: 60_000 });
    const order: string[] = [];
    const calls = [pending(), pending(), pending(), pending(), pending()];
    const run = (owner: string, index: number) =>
      limiter.run(
        () => {
          order.push(`${owner}${index}`);
          return calls[index]!.work();
        },
        undefined,
        owner,
      );
    const running = [run("a", 0), run("a", 1), run("a", 2), run("a", 3), run("b", 4)];
    await Promise.resolve();
    expect(order).toEqual(["a0", "a1"]);
    calls[0]!.finish();
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual(["a0", "a1", "b4"]);
    for (const call of calls) call.finish();
    await Promise.all(running);
    expect(order).toEqual(["a0", "a1", "b4", "a2", "a3"]);
  });

  it("refuses a caller's call beyond its share of the queue, and still queues another caller's", async () => {
    const limiter = new ConcurrencyLimiter("ollama", { concurrency: 1, queueMax: 10, queueMaxPerOwner: 2, queueTimeoutMs: 60_000 });
    const call = pending();
    const running = [limiter.run(call.work, undefined, "a"), limiter.run(call.work, undefined, "a"), limiter.run(call.work, undefined, "a")];
    await expect(limiter.run(call.work, undefined, "a")).rejects.toThrow(/You already have 2 calls waiting for ollama \(LLM_QUEUE_MAX_PER_TOKEN\)/);
    const other = limiter.run(call.work, undefined, "b");
    expect(limiter.waiting).toBe(3);
    call.finish();
    await Promise.all([...running, other]);
    expect(limiter.running).toBe(0);
  });
});

describe("ConcurrencyLimiter queue timeout, on a fake clock", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("fails a call that waited queueTimeoutMs for a slot, exactly then, and frees its place in the queue", async () => {
    const limiter = new ConcurrencyLimiter("ollama", { concurrency: 1, queueMax: 1, queueMaxPerOwner: 1, queueTimeoutMs: 300 });
    const call = pending();
    const running = limiter.run(call.work);
    let outcome: unknown;
    const waiting = limiter.run(call.work).catch((error: Error) => (outcome = error));
    await vi.advanceTimersByTimeAsync(299);
    expect(outcome).toBeUndefined();
    expect(limiter.waiting).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await waiting;
    expect(outcome).toMatchObject({ kind: "queue_full", message: expect.stringContaining("Waited 300 ms for a free ollama slot (LLM_QUEUE_TIMEOUT_MS)") });
    expect(limiter.waiting).toBe(0);
    // The place is free again: the next call queues rather than being refused.
    const next = limiter.run(call.work);
    expect(limiter.waiting).toBe(1);
    call.finish();
    await Promise.all([running, next]);
    expect(limiter.running).toBe(0);
  });

  it("refuses a call beyond the queue at once, however long the others wait", async () => {
    const limiter = new ConcurrencyLimiter("ollama", { concurrency: 1, queueMax: 1, queueMaxPerOwner: 1, queueTimeoutMs: 60_000 });
    const call = pending();
    const running = [limiter.run(call.work), limiter.run(call.work, undefined, "other")];
    await expect(limiter.run(call.work, undefined, "third")).rejects.toThrow("ollama is busy: 1 calls running and 1 waiting");
    call.finish();
    await Promise.all(running);
  });

  it("gives a waiting call the slot as soon as one frees, with its timer cleared", async () => {
    const limiter = new ConcurrencyLimiter("ollama", { concurrency: 1, queueMax: 1, queueMaxPerOwner: 1, queueTimeoutMs: 300 });
    const first = pending();
    const second = pending();
    const running = limiter.run(first.work);
    const queued = limiter.run(second.work, undefined, "other");
    await vi.advanceTimersByTimeAsync(200);
    first.finish();
    await vi.advanceTimersByTimeAsync(0);
    expect([limiter.running, limiter.waiting]).toEqual([1, 0]);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    second.finish();
    await Promise.all([running, queued]);
  });

  it("drops a waiting call whose caller cancels, before its timeout", async () => {
    const limiter = new ConcurrencyLimiter("ollama", { concurrency: 1, queueMax: 1, queueMaxPerOwner: 1, queueTimeoutMs: 300 });
    const call = pending();
    const running = limiter.run(call.work);
    const controller = new AbortController();
    const waiting = limiter.run(call.work, controller.signal, "other");
    await vi.advanceTimersByTimeAsync(100);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ kind: "cancelled" });
    expect([limiter.waiting, vi.getTimerCount()]).toEqual([0, 0]);
    call.finish();
    await running;
  });
});
