import { withoutControlCharacters } from "../controlCharacters.js";
import { describeFailure } from "../failure.js";
import { redactDeep, redactText } from "../secrets.js";
import type { JobFailure, JobOutput, JobState, JobTool } from "../state/jobs.js";

/** A progress update, as tools report them (`progress` only ever grows). */
export type JobProgress = { progress: number; total?: number; message?: string };

export type JobWorkContext = {
  /** Aborts when the job is cancelled or interrupted (and, before a hand-off, when the client cancels). */
  signal: AbortSignal;
  reportProgress(progress: JobProgress): Promise<void>;
};

/** The generation itself: what the tool would have returned, or a thrown error. */
export type JobWork = (context: JobWorkContext) => Promise<JobOutput>;

export type Ended = { state: "completed"; output: JobOutput } | { state: Exclude<JobState, "running" | "completed">; failure: JobFailure; error: unknown };

/** Why a job was stopped from outside (cancel_job, a shutdown, a lost heartbeat): the reason its signal carries. */
export class JobStop extends Error {
  override readonly name = "JobStop";

  constructor(
    readonly state: "cancelled" | "interrupted",
    message: string,
  ) {
    super(message);
  }
}

/**
 * One generation running in this process: its abort controller, its progress so far, how it
 * ended. Progress goes to the client that started it until the hand-off, and to anyone waiting
 * for it (get_job on this replica) throughout.
 */
export class LiveJob {
  readonly controller = new AbortController();
  readonly started = performance.now();
  progress = "";
  steps = 0;
  ended: Ended | undefined;
  /** Settles (never rejects) when the work has ended. */
  readonly end: Promise<Ended>;
  /** Whether its end is written to the store (or the store no longer expects it). */
  saved = false;
  private forward: ((progress: JobProgress) => Promise<void>) | undefined;
  private readonly watchers = new Set<(message: string) => void>();
  /** get_job calls waiting for the end: one reaction on `end` for all of them, each removed when it stops waiting. */
  private readonly waiting = new Set<() => void>();

  constructor(
    readonly id: string,
    readonly tool: JobTool,
    readonly model: string,
    readonly owner: string,
    work: JobWork,
  ) {
    this.end = work({ signal: this.controller.signal, reportProgress: (progress) => this.report(progress) }).then(
      (output) => (this.ended = this.stopped() ?? { state: "completed", output: { text: redactText(output.text), structured: redactDeep(output.structured) } }),
      (error: unknown) => (this.ended = this.failed(error)),
    );
    void this.end.then(() => {
      for (const wake of this.waiting) wake();
    });
  }

  get elapsedMs(): number {
    return Math.round(performance.now() - this.started);
  }

  /** Sends progress on to the client's call (until the hand-off: then `undefined`). */
  forwardTo(send: ((progress: JobProgress) => Promise<void>) | undefined): void {
    this.forward = send;
  }

  stop(reason: JobStop): void {
    if (!this.ended) this.controller.abort(reason);
  }

  /** Waits for the end, at most `ms` or until `signal` aborts, passing progress messages on meanwhile. */
  async waitFor(ms: number, signal: AbortSignal, onProgress: (message: string) => void): Promise<void> {
    if (this.ended) return;
    this.watchers.add(onProgress);
    let wake = () => {};
    const ended = new Promise<void>((resolve) => (wake = resolve));
    this.waiting.add(wake);
    try {
      await endsWithin(ended, ms, signal);
    } finally {
      this.watchers.delete(onProgress);
      this.waiting.delete(wake);
    }
  }

  private report(progress: JobProgress): Promise<void> {
    this.steps++;
    // Kept in the store as text, which refuses NUL: a model's output must not stop the heartbeat.
    if (progress.message) this.progress = withoutControlCharacters(progress.message);
    for (const watcher of this.watchers) watcher(this.progress);
    return this.forward?.(progress) ?? Promise.resolve();
  }

  /**
   * How a stopped job ended, even when its work still returned something (compare_models answers
   * with the models that finished): a cancel or a shutdown is what the caller is told.
   */
  private stopped(error?: unknown): Ended | undefined {
    const reason: unknown = this.controller.signal.reason;
    if (!this.controller.signal.aborted || !(reason instanceof JobStop)) return undefined;
    return { state: reason.state, failure: { kind: reason.state, message: reason.message }, error };
  }

  private failed(error: unknown): Ended {
    const stopped = this.stopped(error);
    if (stopped) return stopped;
    const { kind, message } = redactDeep(describeFailure(error));
    return { state: this.controller.signal.aborted ? "cancelled" : "failed", failure: { kind, message }, error };
  }
}

/** Whether `promise` settles within `ms` (and before `signal`, if given, aborts). */
export async function endsWithin(promise: Promise<unknown>, ms: number, signal?: AbortSignal): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const giveUp = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    onAbort = () => resolve(false);
    if (signal?.aborted) onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([promise.then(() => true), giveUp]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener("abort", onAbort);
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    if (signal.aborted) done();
    signal.addEventListener("abort", done, { once: true });
  });
}
