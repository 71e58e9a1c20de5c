import { randomUUID } from "node:crypto";
import type { Logger } from "../logger.js";
import type { Metrics } from "../metrics.js";
import { StateError } from "../state/db.js";
import type { JobFailure, JobOutput, JobStore, JobTool } from "../state/jobs.js";
import { endOf, type JobView, liveView, storedView } from "./jobView.js";
import { type Ended, endsWithin, type JobProgress, JobStop, type JobWork, type JobWorkContext, LiveJob, sleep } from "./liveJob.js";

export type { JobProgress, JobView, JobWork, JobWorkContext };

export type JobRunnerOptions = {
  /** A call still running after this long is handed off (ASYNC_AFTER_MS); also the longest get_job waits. */
  asyncAfterMs: number;
  /** How often this process writes its jobs' heartbeat and progress, and reads cancel requests (JOB_HEARTBEAT_MS). */
  heartbeatMs: number;
};

export type JobSpec = {
  tool: JobTool;
  model: string;
  owner: string;
  /** Hand off at once rather than after ASYNC_AFTER_MS. */
  background: boolean;
  /** The client's call: cancels the work until the hand-off, never after. */
  signal: AbortSignal;
  reportProgress(progress: JobProgress): Promise<void>;
};

export type Started = { state: "done"; output: JobOutput } | { state: "handed_off"; job: JobView } | { state: "refused"; message: string };

export type Cancelled = { job: JobView; action: "stopped" | "requested" | "removed" | "finished" };

const CANCELLED = "Stopped by cancel_job; the model request was aborted.";
const SHUT_DOWN: JobFailure = {
  kind: "interrupted",
  message: "The server shut down (SHUTDOWN_TIMEOUT_MS passed) before this answer was finished, so it is lost. Ask again.",
};
const LIST_LIMIT = 50;

/**
 * Runs long generations so that no client's timeout loses them. A call runs as usual; if it is
 * still running after ASYNC_AFTER_MS (or asked for `background`), it becomes a job in the state
 * store, detached from the client's call, and the call returns the job's id. The job goes on in
 * this process: its heartbeat, progress and cancel flag go through the store, so any replica can
 * report on it, cancel it and hand out its result.
 */
export class JobRunner {
  private readonly live = new Map<string, LiveJob>();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private stopping = false;
  /** Shut down: no heartbeat any more. */
  private closed = false;
  private adopted = 0;
  /** Rows being created (a hand-off under way): a shutdown waits for them to become jobs it drains. */
  private creating = 0;

  constructor(
    private readonly store: JobStore,
    private readonly options: JobRunnerOptions,
    private readonly deps: { metrics: Metrics; logger: Logger },
  ) {}

  /** The longest get_job waits: the same bound as a call before its hand-off, below the clients' limits. */
  get waitCapMs(): number {
    return this.options.asyncAfterMs;
  }

  /** Jobs this process is running or still saving. */
  get size(): number {
    return this.live.size;
  }

  /** Runs `work` for a call: its output if it ends in time, else a job that goes on without the call. A failure in time is thrown as usual. */
  async run(spec: JobSpec, work: JobWork): Promise<Started> {
    if (spec.background) return this.startInBackground(spec, work);
    const job = new LiveJob(randomUUID(), spec.tool, spec.model, spec.owner, work);
    const onCancel = () => job.controller.abort(spec.signal.reason);
    if (spec.signal.aborted) onCancel();
    spec.signal.addEventListener("abort", onCancel, { once: true });
    job.forwardTo((progress) => spec.reportProgress(progress));
    let kept = false;
    try {
      // A few seconds in, open the store (a first open can take seconds), so the hand-off is on time.
      const warmAt = Math.min(5_000, Math.floor(this.options.asyncAfterMs / 2));
      if (!this.stopping && !(await endsWithin(job.end, warmAt))) this.store.warm();
      if (this.stopping || (await endsWithin(job.end, this.options.asyncAfterMs - warmAt))) return outcome(await job.end);
      // The hand-off has begun: a client that gives up while the job is being stored no longer stops it.
      spec.signal.removeEventListener("abort", onCancel);
      const created = await this.creatingRow(() => this.store.create(this.row(job))).catch((error: unknown) => {
        if (!(error instanceof StateError)) throw error;
        this.deps.logger.warn({ tool: spec.tool, reason: error.message }, "the call could not be handed off to a job; it goes on in the call");
        return undefined;
      });
      if (!created) {
        if (spec.signal.aborted) onCancel();
        spec.signal.addEventListener("abort", onCancel, { once: true });
        return outcome(await job.end);
      }
      if (!created.ok) {
        job.stop(new JobStop("cancelled", created.refusal));
        await job.end;
        return { state: "refused", message: `The answer is taking longer than ASYNC_AFTER_MS, and it cannot be kept as a job: ${created.refusal}` };
      }
      job.forwardTo(undefined);
      this.adopt(job);
      kept = true;
      if (job.ended) return outcome(job.ended);
      this.deps.metrics.jobEvent(spec.tool, "handed_off");
      return { state: "handed_off", job: liveView(job) };
    } finally {
      spec.signal.removeEventListener("abort", onCancel);
      // A call that ends here without a job (an unexpected failure) leaves no generation behind.
      if (!kept) job.stop(new JobStop("cancelled", "The call that started this generation failed."));
    }
  }

  /**
   * The caller's job, waiting up to `waitMs` (at most `waitCapMs`) while it runs and passing its
   * progress on; undefined for an unknown job, an expired one, or another caller's.
   */
  async collect(id: string, owner: string, waitMs: number, signal: AbortSignal, onProgress: (message: string) => void): Promise<JobView | undefined> {
    const deadline = performance.now() + Math.min(waitMs, this.waitCapMs);
    const left = () => Math.max(0, deadline - performance.now());
    let seen = -1;
    for (;;) {
      const local = this.mine(id, owner);
      if (local) {
        if (local.progress && seen < 0) onProgress(local.progress);
        seen = local.steps;
        if (!local.ended && left() > 0) await local.waitFor(left(), signal, onProgress);
        if (!local.saved) return liveView(local);
      }
      const job = await this.store.get(id, owner);
      if (job?.state === "running" && job.steps > seen && job.progress) onProgress(job.progress);
      if (job?.state !== "running" || left() === 0 || signal.aborted) return job && storedView(job);
      seen = job.steps;
      if (!this.mine(id, owner)) await sleep(Math.min(this.pollMs, left()), signal);
    }
  }

  /** Stops the caller's running job (here, or through the store on the replica that runs it), or forgets a finished one. */
  async cancel(id: string, owner: string): Promise<Cancelled | undefined> {
    const local = this.mine(id, owner);
    if (local) {
      const running = !local.ended;
      local.stop(new JobStop("cancelled", CANCELLED));
      await local.end;
      await this.save(local);
      return { job: liveView(local), action: running ? "stopped" : "finished" };
    }
    const job = await this.store.get(id, owner);
    if (!job) return undefined;
    if (job.state !== "running") {
      await this.store.remove(id, owner);
      return { job: storedView(job), action: "removed" };
    }
    await this.store.requestCancel(id, owner);
    // The replica running it reads the flag with its next heartbeat; wait a few of them for the outcome.
    const deadline = performance.now() + 3 * this.options.heartbeatMs + 1_000;
    for (let latest = job; ; ) {
      if (latest.state !== "running") return { job: storedView(latest), action: "stopped" };
      if (performance.now() >= deadline) return { job: storedView(latest), action: "requested" };
      await sleep(this.pollMs, AbortSignal.timeout(this.pollMs + 1_000));
      const next = await this.store.get(id, owner);
      if (!next) return undefined;
      latest = next;
    }
  }

  /** The caller's newest jobs; those running here show their latest progress. */
  async list(owner: string): Promise<JobView[]> {
    const jobs = await this.store.list(owner, LIST_LIMIT);
    return jobs.map((job) => {
      const local = this.mine(job.id, owner);
      return local && !local.ended ? liveView(local) : storedView(job);
    });
  }

  /**
   * On shutdown: running jobs get `timeoutMs` to finish and be saved (hand-offs under way become
   * jobs first; a save the store refused is tried again); those still running then are stopped and
   * marked interrupted. No job is handed off once this has begun.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.stopping = true;
    if (!(await this.settle(timeoutMs))) {
      const stopped = [...this.live.values()].filter((job) => !job.ended);
      this.deps.logger.warn({ jobs: stopped.length }, "jobs still running at the shutdown deadline are interrupted");
      for (const job of stopped) job.stop(new JobStop("interrupted", SHUT_DOWN.message));
      await this.settle(1_000);
    }
    this.closed = true;
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.adopted > 0) await this.store.interruptRunner(this.store.self, SHUT_DOWN).catch(() => 0);
  }

  /** For up to `ms`: waits for every job here to end and be saved, saving again what the store refused. Whether all were. */
  private async settle(ms: number): Promise<boolean> {
    let over = false;
    const timer = setTimeout(() => (over = true), ms);
    try {
      for (;;) {
        if (this.creating === 0 && this.live.size === 0) return true;
        if (over) return false;
        // A round at most every pollMs: jobs adopted meanwhile join, and a refused save is tried again.
        await endsWithin(Promise.all([...this.live.values()].map((job) => job.end.then(() => this.save(job)))), Math.min(this.pollMs, ms));
      }
    } finally {
      clearTimeout(timer);
    }
  }

  private async creatingRow<T>(create: () => Promise<T>): Promise<T> {
    this.creating++;
    try {
      return await create();
    } finally {
      this.creating--;
    }
  }

  private async startInBackground(spec: JobSpec, work: JobWork): Promise<Started> {
    if (this.stopping) return { state: "refused", message: "The server is shutting down, so it takes no new jobs. Try again in a moment." };
    const id = randomUUID();
    const created = await this.creatingRow(() =>
      this.store.create({ id, owner: spec.owner, tool: spec.tool, model: spec.model, runner: this.store.self, progress: "", steps: 0 }),
    );
    if (!created.ok) return { state: "refused", message: created.refusal };
    const job = new LiveJob(id, spec.tool, spec.model, spec.owner, work);
    this.adopt(job);
    return { state: "handed_off", job: liveView(job) };
  }

  private row(job: LiveJob) {
    const startedAt = new Date(Date.now() - job.elapsedMs);
    return { id: job.id, owner: job.owner, tool: job.tool, model: job.model, runner: this.store.self, progress: job.progress, steps: job.steps, startedAt };
  }

  /** A job now in the store: kept alive by the heartbeat, saved when it ends. */
  private adopt(job: LiveJob): void {
    this.adopted++;
    this.live.set(job.id, job);
    this.deps.metrics.jobEvent(job.tool, "started");
    // Created after the shutdown's deadline: this process will not be here to finish it.
    if (this.closed) job.stop(new JobStop("interrupted", SHUT_DOWN.message));
    else this.timer ??= setInterval(() => void this.tick(), this.options.heartbeatMs).unref();
    void job.end.then(() => this.save(job));
  }

  /** Writes a job's end to the store; a store that is down is tried again with the next heartbeat. */
  private async save(job: LiveJob): Promise<void> {
    const ended = job.ended;
    if (!ended || job.saved) return;
    try {
      const { progress, steps } = job;
      await this.store.finish(job.id, this.store.self, { state: ended.state, ...endOf(ended), progress, steps });
    } catch (error) {
      this.deps.logger.warn(
        { jobId: job.id, reason: error instanceof Error ? error.message : String(error) },
        "a job's result could not be saved yet; trying again",
      );
      return;
    }
    if (job.saved) return;
    job.saved = true;
    this.live.delete(job.id);
    this.deps.metrics.jobEnded(job.tool, ended.state, job.elapsedMs / 1000);
    this.deps.logger.info({ jobId: job.id, tool: job.tool, model: job.model, outcome: ended.state, latencyMs: job.elapsedMs }, "job ended");
    if (this.live.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** One heartbeat: progress and liveness written, cancel requests read, unsaved results saved. */
  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const running = [...this.live.values()].filter((job) => !job.ended);
      const beats = await this.store.heartbeat(
        this.store.self,
        running.map((job) => ({ id: job.id, progress: job.progress, steps: job.steps })),
      );
      for (const job of running) {
        const beat = beats.get(job.id);
        if (!beat)
          job.stop(new JobStop("interrupted", "This job was reported as interrupted while its process was unresponsive, so it was stopped. Ask again."));
        else if (beat.cancelRequested) job.stop(new JobStop("cancelled", CANCELLED));
      }
      for (const job of [...this.live.values()]) if (job.ended) await this.save(job);
    } catch (error) {
      this.deps.logger.warn({ reason: error instanceof Error ? error.message : String(error) }, "job heartbeat failed; trying again");
    } finally {
      this.ticking = false;
    }
  }

  private mine(id: string, owner: string): LiveJob | undefined {
    const job = this.live.get(id);
    return job?.owner === owner ? job : undefined;
  }

  /** How often a wait on another replica's job reads the store. */
  private get pollMs(): number {
    return Math.min(1_000, this.options.heartbeatMs);
  }
}

function outcome(ended: Ended): Started {
  if (ended.state === "completed") return { state: "done", output: ended.output };
  throw ended.error;
}
