import type { Job, JobFailure, JobOutput, JobState, JobTool } from "../state/jobs.js";
import type { Ended, LiveJob } from "./liveJob.js";

/** A job as a caller sees it. */
export type JobView = {
  id: string;
  tool: JobTool;
  model: string;
  state: JobState;
  progress: string;
  steps: number;
  ageMs: number;
  result?: JobOutput;
  failure?: JobFailure;
};

/** What a job's end leaves in the store: its result, or its failure. */
export function endOf(ended: Ended): { result?: JobOutput; failure?: JobFailure } {
  return ended.state === "completed" ? { result: ended.output } : { failure: ended.failure };
}

/** A job running (or just ended) in this process. */
export function liveView(job: LiveJob): JobView {
  const ended = job.ended;
  return {
    id: job.id,
    tool: job.tool,
    model: job.model,
    state: ended?.state ?? "running",
    progress: job.progress,
    steps: job.steps,
    ageMs: job.elapsedMs,
    ...(ended && endOf(ended)),
  };
}

/** A job as the store has it. */
export function storedView(job: Job): JobView {
  return {
    id: job.id,
    tool: job.tool,
    model: job.model,
    state: job.state,
    progress: job.progress,
    steps: job.steps,
    ageMs: Math.max(0, Date.now() - job.createdAt.getTime()),
    ...(job.result && { result: job.result }),
    ...(job.failure && { failure: job.failure }),
  };
}
