import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { InFlight } from "../src/lifecycle.js";

/** The shutdown's wait for calls in flight, on a fake clock (test/shutdown.test.ts runs the real process). */
describe("InFlight.drained", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("is true at once with nothing in flight", async () => {
    await expect(new InFlight().drained(1_000)).resolves.toBe(true);
  });

  it("is true as soon as the last call ends, before the deadline", async () => {
    const inFlight = new InFlight();
    let finish!: () => void;
    void inFlight.track(new Promise<void>((resolve) => (finish = resolve)));
    let drained: boolean | undefined;
    void inFlight.drained(7_000).then((value) => (drained = value));
    await vi.advanceTimersByTimeAsync(3_000);
    expect(drained).toBeUndefined();
    finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(drained).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("is false at the deadline when a call is still running", async () => {
    const inFlight = new InFlight();
    void inFlight.track(new Promise<void>(() => undefined));
    let drained: boolean | undefined;
    void inFlight.drained(500).then((value) => (drained = value));
    await vi.advanceTimersByTimeAsync(499);
    expect(drained).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(drained).toBe(false);
    expect(inFlight.size).toBe(1);
  });
});
