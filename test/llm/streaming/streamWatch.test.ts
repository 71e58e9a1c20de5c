import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { StreamWatch } from "../../../src/llm/streaming/streamWatch.js";

/**
 * The three deadlines of a streamed provider call, on a fake clock. test/e2e/longCalls.test.ts
 * checks that each one reaches the client as its message, and that the provider request is closed.
 */

const limits = { firstTokenMs: 1_500, idleMs: 400, totalMs: 3_000 };

describe("StreamWatch", () => {
  let watch: StreamWatch | undefined;
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => {
    watch?.dispose();
    watch = undefined;
    vi.useRealTimers();
  });

  it("aborts at the first-token limit when no token came, and names it", () => {
    watch = new StreamWatch(limits, undefined);
    vi.advanceTimersByTime(1_499);
    expect(watch.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(watch.signal.aborted).toBe(true);
    expect(watch.failure("ollama", "qwen3:4b")).toMatchObject({
      kind: "timeout",
      message:
        "ollama model 'qwen3:4b' sent no first token within 1500 ms (model load included) (LLM_FIRST_TOKEN_TIMEOUT_MS). Raise LLM_FIRST_TOKEN_TIMEOUT_MS for slow models.",
    });
  });

  it("stops the first-token clock at the first token, and measures the time to it", () => {
    watch = new StreamWatch(limits, undefined);
    vi.advanceTimersByTime(1_200);
    watch.token();
    expect(watch.timeToFirstTokenMs).toBe(1_200);
    for (let i = 0; i < 5; i++) {
      vi.advanceTimersByTime(300);
      watch.token();
    }
    expect(watch.signal.aborted).toBe(false);
    expect(watch.elapsedMs).toBe(2_700);
  });

  it("aborts when the stream goes silent for the idle limit after a token, counted from the last token", () => {
    watch = new StreamWatch(limits, undefined);
    watch.token();
    vi.advanceTimersByTime(399);
    watch.token();
    vi.advanceTimersByTime(399);
    expect(watch.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(watch.signal.aborted).toBe(true);
    expect(watch.failure("openai", "gpt-4o-mini")!.message).toContain("went silent for 400 ms mid-answer (LLM_IDLE_TIMEOUT_MS)");
  });

  it("aborts at the total limit however steadily tokens come", () => {
    watch = new StreamWatch(limits, undefined);
    for (let at = 0; at < 2_990; at += 10) {
      watch.token();
      vi.advanceTimersByTime(10);
    }
    expect(watch.signal.aborted).toBe(false);
    vi.advanceTimersByTime(10);
    expect(watch.signal.aborted).toBe(true);
    expect(watch.failure("ollama", "qwen3:4b")!.message).toContain("did not finish within 3000 ms (LLM_TOTAL_TIMEOUT_MS)");
  });

  it("reports the caller's own cancel as cancelled, not as a timeout", () => {
    const caller = new AbortController();
    watch = new StreamWatch(limits, caller.signal);
    vi.advanceTimersByTime(100);
    caller.abort();
    expect(watch.signal.aborted).toBe(true);
    expect(watch.failure("ollama", "qwen3:4b")).toMatchObject({ kind: "cancelled" });
    expect(watch.failure("ollama", "qwen3:4b")!.message).not.toContain("TIMEOUT");
  });

  it("has no failure to report for a stream that ended in time, and leaves no timer behind", () => {
    watch = new StreamWatch(limits, undefined);
    watch.token();
    vi.advanceTimersByTime(100);
    watch.dispose();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(10_000);
    expect(watch.signal.aborted).toBe(false);
    expect(watch.failure("ollama", "qwen3:4b")).toBeUndefined();
  });
});
