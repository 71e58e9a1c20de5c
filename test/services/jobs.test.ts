import { Writable } from "node:stream";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createLogger } from "../../src/logger.js";
import { Metrics } from "../../src/metrics.js";
import { JobRunner, type JobSpec, type JobWorkContext } from "../../src/services/jobs.js";
import { StateError } from "../../src/state/db.js";
import { JobStore } from "../../src/state/jobs.js";
import { StateStore } from "../../src/state/store.js";
import { freshDataDir, removeDataDir } from "../support/state.js";

const ASYNC_AFTER_MS = 45_000;
const output = { text: "done", structured: { answer: "done" } };

/** A generation the test ends when it wants: `finish()` answers, an abort of its signal rejects it. */
function pending() {
  let finish: () => void = () => {};
  let seen: JobWorkContext | undefined;
  const work = (context: JobWorkContext) =>
    new Promise<typeof output>((resolve, reject) => {
      seen = context;
      finish = () => resolve(output);
      context.signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true });
    });
  return { work, finish: () => finish(), context: () => seen! };
}

/**
 * The runner's clock is faked (the hand-off delay, the heartbeat, the drain deadline); the store is
 * a real embedded database, so what the runner leaves in it is what a replica would read.
 */
describe("JobRunner", () => {
  let dir: string;
  let state: StateStore;
  let metrics: Metrics;
  let runner: JobRunner;
  const spec = (signal = new AbortController().signal, background = false): JobSpec => ({
    tool: "ask_llm",
    model: "qwen3:4b",
    owner: "token:a",
    background,
    signal,
    reportProgress: async () => undefined,
  });
  const rows = async () => state.use((db) => db.query<{ id: string; state: string }>("select id, state from jobs order by created_at"));
  const metric = async (event: string) =>
    (await metrics.registry.getSingleMetricAsString("mcp_jobs_total"))
      .split("\n")
      .find((line) => line.includes(`event="${event}"`))
      ?.split(" ")
      .at(-1);

  beforeAll(async () => {
    dir = await freshDataDir();
    state = new StateStore({ dataDir: dir, databaseUrl: undefined, onPoolError: () => undefined });
    await state.use((db) => db.query("select 1"));
  });
  afterAll(async () => {
    await state.close();
    removeDataDir(dir);
  });
  afterEach(async () => {
    vi.useRealTimers();
    vi.restoreAllMocks();
    await state.use((db) => db.query("delete from jobs"));
  });

  function newRunner(): JobRunner {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval"] });
    metrics = new Metrics({ openSessions: () => ({}), queue: () => ({}) });
    const logger = createLogger("silent", new Writable({ write: (_chunk, _encoding, done) => done() }));
    const store = new JobStore(state, { ttlMs: 60_000, staleMs: 20_000, maxRunningPerOwner: 8, maxPerOwner: 100, maxTotal: 1_000 });
    runner = new JobRunner(store, { asyncAfterMs: ASYNC_AFTER_MS, heartbeatMs: 5_000 }, { metrics, logger });
    return runner;
  }

  it("returns an answer that ends in time as the call's own, and writes nothing", async () => {
    newRunner();
    const generation = pending();
    const started = runner.run(spec(), generation.work);
    await vi.advanceTimersByTimeAsync(ASYNC_AFTER_MS - 1);
    generation.finish();
    expect(await started).toEqual({ state: "done", output });
    expect(await rows()).toEqual([]);
    expect(runner.size).toBe(0);
  });

  it("hands off at ASYNC_AFTER_MS; after that the client's cancel no longer reaches the generation", async () => {
    newRunner();
    const client = new AbortController();
    const generation = pending();
    const started = runner.run(spec(client.signal), generation.work);
    await vi.advanceTimersByTimeAsync(ASYNC_AFTER_MS);
    const handedOff = await started;
    expect(handedOff).toMatchObject({ state: "handed_off", job: { state: "running", tool: "ask_llm", model: "qwen3:4b" } });
    client.abort();
    expect(generation.context().signal.aborted).toBe(false);
    generation.finish();
    await vi.waitFor(async () => expect(await rows()).toEqual([{ id: handedOff.state === "handed_off" && handedOff.job.id, state: "completed" }]));
    expect(runner.size).toBe(0);
    expect([await metric("started"), await metric("handed_off"), await metric("completed")]).toEqual(["1", "1", "1"]);
  });

  it("keeps the generation when the client gives up while its job is being stored", async () => {
    newRunner();
    // The store is busy (a first open, a slow server): the job's row waits for this transaction.
    let release: () => void = () => {};
    const busy = state.use((db) => db.transaction(() => new Promise<void>((resolve) => (release = resolve))));
    const client = new AbortController();
    const generation = pending();
    const started = runner.run(spec(client.signal), generation.work);
    await vi.advanceTimersByTimeAsync(ASYNC_AFTER_MS);
    client.abort();
    release();
    await busy;
    expect(await started).toMatchObject({ state: "handed_off" });
    expect(generation.context().signal.aborted).toBe(false);
    generation.finish();
    await vi.waitFor(async () => expect((await rows()).map((row) => row.state)).toEqual(["completed"]));
  });

  it("lets the client's cancel stop a generation before its hand-off, as before", async () => {
    newRunner();
    const client = new AbortController();
    const generation = pending();
    const started = runner.run(spec(client.signal), generation.work);
    await vi.advanceTimersByTimeAsync(ASYNC_AFTER_MS - 1);
    client.abort();
    await expect(started).rejects.toThrow("aborted");
    expect(generation.context().signal.aborted).toBe(true);
    expect(await rows()).toEqual([]);
  });

  it("gives running jobs the drain period on shutdown, then stops them and marks them interrupted", async () => {
    newRunner();
    const finishing = pending();
    const stuck = pending();
    const [first, second] = await Promise.all([runner.run(spec(undefined, true), finishing.work), runner.run(spec(undefined, true), stuck.work)]);
    const drained = runner.drain(7_000);
    finishing.finish();
    await vi.advanceTimersByTimeAsync(7_000);
    await drained;
    expect(stuck.context().signal.aborted).toBe(true);
    const byId = Object.fromEntries((await rows()).map((row) => [row.id, row.state]));
    const id = (started: typeof first) => (started.state === "handed_off" ? started.job.id : "");
    expect(byId).toEqual({ [id(first)]: "completed", [id(second)]: "interrupted" });
    // No hand-off once the shutdown has begun: a call then stays in its request.
    const late = pending();
    const call = runner.run(spec(), late.work);
    await vi.advanceTimersByTimeAsync(ASYNC_AFTER_MS * 2);
    late.finish();
    expect(await call).toEqual({ state: "done", output });
  });

  it("saves at shutdown an answer whose writes the store refused at first, instead of calling it interrupted", async () => {
    newRunner();
    const finishing = pending();
    const started = await runner.run(spec(undefined, true), finishing.work);
    const refuse = () => Promise.reject(new StateError("the database is restarting"));
    vi.spyOn(JobStore.prototype, "finish").mockImplementationOnce(refuse).mockImplementationOnce(refuse);
    const drained = runner.drain(7_000);
    finishing.finish();
    await vi.advanceTimersByTimeAsync(7_000);
    await drained;
    expect(await rows()).toEqual([{ id: started.state === "handed_off" ? started.job.id : "", state: "completed" }]);
  });

  it("drains a hand-off that was being stored when the shutdown began, rather than leaving it running", async () => {
    newRunner();
    const create = JobStore.prototype.create;
    let stored = () => {};
    const storing = new Promise<void>((resolve) => (stored = resolve));
    vi.spyOn(JobStore.prototype, "create").mockImplementationOnce(async function (this: JobStore, job) {
      await storing;
      return create.call(this, job);
    });
    const stuck = pending();
    const call = runner.run(spec(undefined, true), stuck.work);
    const drained = runner.drain(7_000);
    stored();
    expect(await call).toMatchObject({ state: "handed_off" });
    await vi.advanceTimersByTimeAsync(7_000);
    await drained;
    expect(stuck.context().signal.aborted).toBe(true);
    expect((await rows()).map((row) => row.state)).toEqual(["interrupted"]);
  });

  it("keeps the heartbeat going when a model's progress holds a NUL (the store refuses one in text)", async () => {
    newRunner();
    const talking = pending();
    const started = await runner.run(spec(undefined, true), talking.work);
    await talking.context().reportProgress({ progress: 1, message: "half\u0000way" });
    await vi.advanceTimersByTimeAsync(5_000);
    const [row] = await state.use((db) => db.query<{ progress: string }>("select progress from jobs"));
    expect(row!.progress).toBe("half way");
    talking.finish();
    await vi.advanceTimersByTimeAsync(0);
    expect((await runner.collect(started.state === "handed_off" ? started.job.id : "", "token:a", 0, new AbortController().signal, () => {}))?.state).toBe(
      "completed",
    );
  });

  it("reports a cancelled job as cancelled even when its work still returns something (compare_models answers with what it has)", async () => {
    newRunner();
    let context: JobWorkContext | undefined;
    const partial = (seen: JobWorkContext) =>
      new Promise<typeof output>((resolve) => {
        context = seen;
        seen.signal.addEventListener("abort", () => resolve(output), { once: true });
      });
    const started = await runner.run(spec(undefined, true), partial);
    const id = started.state === "handed_off" ? started.job.id : "";
    expect(await runner.cancel(id, "token:a")).toMatchObject({ action: "stopped", job: { state: "cancelled" } });
    expect(context!.signal.aborted).toBe(true);
    expect(await rows()).toEqual([{ id, state: "cancelled" }]);
  });
});
