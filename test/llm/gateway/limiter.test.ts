import { describe, expect, it } from "vitest";
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
    const run = (owner: string, index: number) => limiter.run(() => (order.push(`${owner}${index}`), calls[index]!.work()), undefined, owner);
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
