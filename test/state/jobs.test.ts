import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type JobLimits, JobStore, type NewJob } from "../../src/state/jobs.js";
import { StateStore } from "../../src/state/store.js";
import { engines } from "../support/engines.js";

const limits: JobLimits = { ttlMs: 60_000, staleMs: 15_000, maxRunningPerOwner: 2, maxPerOwner: 3, maxTotal: 5 };
const output = { text: "the answer\n\n— qwen3:4b (ollama)", structured: { answer: "the answer", model: "qwen3:4b" } };

describe.each(engines())("JobStore on $name", (engine) => {
  let state: StateStore;
  let now = new Date("2026-11-27T12:00:00Z");
  const later = (ms: number) => (now = new Date(now.getTime() + ms));
  const jobs = (overrides: Partial<JobLimits> = {}) => new JobStore(state, { ...limits, ...overrides }, () => now);
  const newJob = (owner: string, runner = "runner-a"): NewJob => ({
    id: randomUUID(),
    owner,
    tool: "ask_llm",
    model: "qwen3:4b",
    runner,
    progress: "",
    steps: 0,
  });
  const count = async () => (await state.use((db) => db.query<{ n: number }>("select count(*)::integer as n from jobs")))[0]!.n;

  beforeAll(async () => {
    state = new StateStore({ ...(await engine.open()), onPoolError: () => undefined });
  });
  afterAll(async () => {
    await state.close();
    await engine.close();
  });

  it("keeps a job to its owner, with its progress, its result, and then lets it expire", async () => {
    const store = jobs();
    const job = { ...newJob("token:a"), startedAt: new Date(now.getTime() - 45_000) };
    expect(await store.create(job)).toEqual({ ok: true });
    // Its age counts from when the call began, not from the hand-off.
    expect((await store.get(job.id, "token:a"))!.createdAt).toEqual(job.startedAt);
    expect(await store.get(job.id, "token:b")).toBeUndefined();
    const beats = await store.heartbeat("runner-a", [{ id: job.id, progress: "qwen3:4b: 12 chars: Hello there", steps: 3 }]);
    expect(beats).toEqual(new Map([[job.id, { cancelRequested: false }]]));
    expect(await store.get(job.id, "token:a")).toMatchObject({ state: "running", progress: "qwen3:4b: 12 chars: Hello there", steps: 3, result: undefined });
    // Another runner's heartbeat does not touch it.
    expect((await store.heartbeat("runner-b", [{ id: job.id, progress: "forged", steps: 99 }])).size).toBe(0);
    expect(await store.finish(job.id, "runner-a", { state: "completed", result: output, progress: "done", steps: 4 })).toBe(true);
    const finished = await store.get(job.id, "token:a");
    expect(finished).toMatchObject({ state: "completed", result: output, steps: 4, tool: "ask_llm", model: "qwen3:4b" });
    expect(finished!.finishedAt).toEqual(now);
    expect(await store.list("token:a", 10)).toHaveLength(1);
    expect(await store.list("token:b", 10)).toEqual([]);
    later(60_001);
    expect(await store.get(job.id, "token:a")).toBeUndefined();
    await state.maintain(now);
    expect(await count()).toBe(0);
  });

  it("reports a job whose process stopped writing heartbeats as interrupted, and keeps it so", async () => {
    const store = jobs();
    const job = newJob("token:a");
    await store.create(job);
    later(14_000);
    expect((await store.get(job.id, "token:a"))!.state).toBe("running");
    later(2_000);
    const lost = await store.get(job.id, "token:a");
    expect(lost).toMatchObject({ state: "interrupted", failure: { kind: "interrupted" } });
    expect(lost!.failure!.message).toContain("stopped (it was restarted, redeployed or crashed) before the answer was finished");
    // The process that ran it comes back to life: it learns the job is gone, and cannot overwrite it.
    expect((await store.heartbeat("runner-a", [{ id: job.id, progress: "late", steps: 1 }])).size).toBe(0);
    expect(await store.finish(job.id, "runner-a", { state: "completed", result: output, progress: "", steps: 1 })).toBe(false);
    expect((await store.get(job.id, "token:a"))!.state).toBe("interrupted");
    later(60_001);
    await state.maintain(now);
    expect(await count()).toBe(0);
  });

  it("never declares the jobs of its own process interrupted, however late their heartbeat", async () => {
    const store = jobs();
    const mine = newJob("token:a", store.self);
    await store.create(mine);
    later(60_000);
    expect((await store.get(mine.id, "token:a"))!.state).toBe("running");
    expect((await store.list("token:a", 10)).map((job) => job.state)).toEqual(["running"]);
    // Another process sees it for what it is.
    expect((await jobs().get(mine.id, "token:a"))!.state).toBe("interrupted");
    later(60_001);
    await state.maintain(now);
    expect(await count()).toBe(0);
  });

  it("passes a cancel request from any replica to the runner's next heartbeat, for the owner only", async () => {
    const store = jobs();
    const job = newJob("token:a");
    await store.create(job);
    await store.requestCancel(job.id, "token:b");
    expect(await store.heartbeat("runner-a", [{ id: job.id, progress: "", steps: 0 }])).toEqual(new Map([[job.id, { cancelRequested: false }]]));
    await store.requestCancel(job.id, "token:a");
    expect(await store.heartbeat("runner-a", [{ id: job.id, progress: "", steps: 0 }])).toEqual(new Map([[job.id, { cancelRequested: true }]]));
    await store.finish(job.id, "runner-a", { state: "cancelled", failure: { kind: "cancelled", message: "stopped" }, progress: "", steps: 0 });
    expect(await store.remove(job.id, "token:b")).toBe(false);
    expect(await store.remove(job.id, "token:a")).toBe(true);
    expect(await store.get(job.id, "token:a")).toBeUndefined();
  });

  it("refuses past each cap and names it: running per token, kept per token, all together", async () => {
    const store = jobs();
    const [first, second] = [newJob("token:c"), newJob("token:c")];
    await store.create(first);
    await store.create(second);
    const running = await store.create(newJob("token:c"));
    expect(running).toMatchObject({ ok: false, refusal: expect.stringContaining("2 jobs running") });
    expect(running.ok || running.refusal).toContain("JOB_MAX_RUNNING_PER_TOKEN=2");
    await store.finish(first.id, "runner-a", { state: "completed", result: output, progress: "", steps: 1 });
    await store.finish(second.id, "runner-a", { state: "completed", result: output, progress: "", steps: 1 });
    await store.create(newJob("token:c"));
    const kept = await store.create(newJob("token:c"));
    expect(kept.ok || kept.refusal).toContain("3 jobs kept, the most one token may keep (JOB_MAX_PER_TOKEN=3)");
    // token:c holds 3; two more from others reach the total of 5.
    await store.create(newJob("token:d"));
    await store.create(newJob("token:e"));
    const total = await store.create(newJob("token:f"));
    expect(total.ok || total.refusal).toContain("keeps 5 jobs, its limit for all tokens together (JOB_MAX_TOTAL=5)");
    // A finished job removed frees its place.
    await store.remove(first.id, "token:c");
    expect(await store.create(newJob("token:f"))).toEqual({ ok: true });
    await store.interruptRunner("runner-a", { kind: "interrupted", message: "shut down" });
    later(60_001);
    await state.maintain(now);
    expect(await count()).toBe(0);
  });

  it("keeps per-token caps exact when one token creates jobs on several replicas at once", async () => {
    const store = jobs({ maxRunningPerOwner: 3, maxPerOwner: 100, maxTotal: 100 });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.create(newJob("token:g", `runner-${i}`))));
    expect(results.filter((r) => r.ok)).toHaveLength(3);
    await store.interruptRunner("runner-0", { kind: "interrupted", message: "" });
    later(60_001);
    await state.maintain(now);
    later(60_001);
    await state.maintain(now);
    expect(await count()).toBe(0);
  });
});
