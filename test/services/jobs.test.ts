import { Writable } from "node:stream";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createLogger } from "../../src/logger.js";
import { Metrics } from "../../src/metrics.js";
import { JobRunner, type JobSpec, type JobWorkContext } from "../../src/services/jobs.js";
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
});
