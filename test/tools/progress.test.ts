import type { Progress } from "fastmcp";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ProgressReporter } from "../../src/tools/progress.js";

/**
 * The throttle and the heartbeat of MCP progress, on a fake clock: the times below are exact, and no
 * load on the machine can move them. (test/e2e/longCalls.test.ts checks the same notifications reach
 * real clients over both transports, while the stand-in holds the model's answer.)
 */

type Sent = Progress & { at: number };

function reporter(heartbeatMs: number, throttleMs?: number) {
  const start = Date.now();
  const sent: Sent[] = [];
  const send = vi.fn(async (progress: Progress) => void sent.push({ ...progress, at: Date.now() - start }));
  return { progress: new ProgressReporter(send, "qwen3:4b", heartbeatMs, throttleMs), sent, send };
}

describe("ProgressReporter", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("sends the first step at once, then at most one update per throttle interval, with the latest description", () => {
    const { progress, sent } = reporter(10_000, 250);
    progress.step(() => "1 chars: a");
    expect(sent).toEqual([{ progress: 1, message: "qwen3:4b: 1 chars: a", at: 0 }]);
    for (let token = 2; token <= 10; token++) {
      vi.advanceTimersByTime(20);
      progress.step(() => `${token} chars`);
    }
    // 9 more steps in 180 ms: none sent yet, one due when the throttle interval is up.
    expect(sent).toHaveLength(1);
    vi.advanceTimersByTime(69);
    expect(sent).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(sent.at(-1)).toEqual({ progress: 10, message: "qwen3:4b: 10 chars", at: 250 });
    progress.stop();
  });

  it("describes a step only when it sends one", () => {
    const { progress } = reporter(10_000, 250);
    const describe = vi.fn(() => "text");
    progress.step(describe);
    for (let i = 0; i < 5; i++) progress.step(describe);
    expect(describe).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(250);
    expect(describe).toHaveBeenCalledTimes(2);
    progress.stop();
  });

  it("sends a heartbeat every heartbeat interval while nothing else is sent (a model loading)", () => {
    const { progress, sent } = reporter(150);
    vi.advanceTimersByTime(149);
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(1);
    vi.advanceTimersByTime(1_350);
    expect(sent.map((s) => s.at)).toEqual([150, 300, 450, 600, 750, 900, 1_050, 1_200, 1_350, 1_500]);
    expect(sent[0]!.message).toBe("qwen3:4b: still working after 0 s (loading the model or thinking)");
    expect(sent.at(-1)!.message).toBe("qwen3:4b: still working after 2 s (loading the model or thinking)");
    progress.stop();
  });

  it("names the latest step in a heartbeat once there is one (a model thinking mid-answer)", () => {
    const { progress, sent } = reporter(150);
    progress.step(() => "12 chars: Echo");
    vi.advanceTimersByTime(150);
    expect(sent.map((s) => [s.at, s.message])).toEqual([
      [0, "qwen3:4b: 12 chars: Echo"],
      [150, "qwen3:4b: still working after 0 s (12 chars: Echo)"],
    ]);
    progress.stop();
  });

  it("restarts the heartbeat after every update, so steady steps send no heartbeats", () => {
    const { progress, sent } = reporter(300, 250);
    for (let at = 0; at <= 2_000; at += 50) {
      progress.step(() => `at ${at}`);
      vi.advanceTimersByTime(50);
    }
    expect(sent.filter((s) => s.message?.includes("still working"))).toEqual([]);
    progress.stop();
  });

  it("never leaves a gap longer than the heartbeat or the throttle interval, and progress only grows", () => {
    // The shape of a real call: 700 ms of model load, tokens every 20 ms for 400 ms, a 600 ms pause, more tokens.
    const { progress, sent } = reporter(150, 250);
    vi.advanceTimersByTime(700);
    for (let i = 0; i < 20; i++) {
      progress.step(() => `token ${i}`);
      vi.advanceTimersByTime(20);
    }
    vi.advanceTimersByTime(600);
    for (let i = 20; i < 30; i++) {
      progress.step(() => `token ${i}`);
      vi.advanceTimersByTime(20);
    }
    progress.stop();
    const gaps = sent.map((s, i) => s.at - (i === 0 ? 0 : sent[i - 1]!.at));
    expect(Math.max(...gaps)).toBeLessThanOrEqual(250);
    const values = sent.map((s) => s.progress);
    expect(values).toEqual([...values].sort((a, b) => a - b));
    expect(new Set(values).size).toBe(values.length);
    expect(sent.filter((s) => s.message?.includes("still working")).length).toBeGreaterThanOrEqual(4);
  });

  // With PROGRESS_INTERVAL_MS below the 250 ms throttle, a heartbeat can fall between a step and
  // that step's throttled update; the MCP spec says progress MUST increase with every notification.
  it("never repeats a progress value, even when a heartbeat falls between a step and its throttled update", () => {
    const { progress, sent } = reporter(150, 250);
    progress.step(() => "a");
    vi.advanceTimersByTime(10);
    progress.step(() => "ab");
    vi.advanceTimersByTime(300);
    progress.stop();
    const values = sent.map((s) => s.progress);
    expect(values).toEqual([...new Set(values)]);
  });

  it("sends nothing after stop(), pending update and heartbeat included", () => {
    const { progress, sent } = reporter(150, 250);
    progress.step(() => "first");
    progress.step(() => "pending");
    progress.stop();
    vi.advanceTimersByTime(10_000);
    expect(sent.map((s) => s.message)).toEqual(["qwen3:4b: first"]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("keeps its heartbeat going when a notification fails (the client has gone)", async () => {
    const send = vi.fn(() => Promise.reject(new Error("stream closed")));
    const progress = new ProgressReporter(send, "m", 100);
    await vi.advanceTimersByTimeAsync(300);
    expect(send).toHaveBeenCalledTimes(3);
    progress.stop();
  });
});
