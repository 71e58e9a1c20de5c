import { z } from "zod";
import type { JobRunner, JobView, JobWork } from "../services/jobs.js";
import type { JobTool } from "../state/jobs.js";
import { type ToolContext, ToolError, type ToolOutput } from "./tool.js";

/** The `background` argument of the tools whose generations may become jobs. */
export const background = z
  .boolean()
  .optional()
  .describe(
    "Return a job_id at once and generate in the background; collect the answer with get_job. Without it, a call still running after ASYNC_AFTER_MS returns a job_id the same way.",
  );

/** What a calling model is told to do with a job id, in every result that carries one. */
export function collectHint(id: string, waitCapMs: number): string {
  return `Call get_job with job_id "${id}" to collect the answer (it waits up to ${seconds(waitCapMs)} s per call; call it again while the job is running). Do not start the same request again, and do not ask the user: the answer is collected with get_job. cancel_job stops the job.`;
}

export const unknownJob = (id: string) =>
  new ToolError(
    `No job ${id}: it does not exist, it has expired (finished jobs are kept for JOB_TTL_MS), or it belongs to another token. Start the work again (ask_llm, compare_models or ask_docs).`,
  );

/**
 * Runs a tool's generation through the job runner: the tool's own result when it ends in time,
 * else a result that hands the job id over (a successful result, so every client shows it).
 */
export async function runAsJob(
  jobs: JobRunner,
  spec: { tool: JobTool; model: string; background: boolean | undefined; context: ToolContext },
  work: JobWork,
): Promise<ToolOutput> {
  const { context } = spec;
  const started = await jobs.run(
    {
      tool: spec.tool,
      model: spec.model,
      owner: context.caller.id,
      background: spec.background ?? false,
      signal: context.signal,
      reportProgress: context.reportProgress,
    },
    work,
  );
  if (started.state === "done") return started.output;
  if (started.state === "refused") throw new ToolError(started.message);
  const { job } = started;
  const opening = spec.background
    ? `Started job ${job.id} (${job.tool}, ${job.model}) in the background; the answer is not ready yet.`
    : `The answer is still being written: ${job.model} has been working for ${seconds(job.ageMs)} s${job.progress ? ` (${job.progress})` : ""}. It goes on in the background as job ${job.id}.`;
  return {
    text: `${opening}\n\n${collectHint(job.id, jobs.waitCapMs)}`,
    structured: { jobId: job.id, state: job.state, tool: job.tool, model: job.model, elapsedMs: job.ageMs, progress: job.progress, next: "get_job" },
  };
}

/** A job that has no result to hand out (yet), as a tool result. */
export function jobStatus(job: JobView, waitCapMs: number): ToolOutput {
  const where = `Job ${job.id} (${job.tool}, ${job.model})`;
  const text =
    job.state === "running"
      ? `${where} is still running after ${seconds(job.ageMs)} s${job.progress ? `; progress: ${job.progress}` : ""}.\n\n${collectHint(job.id, waitCapMs)}`
      : `${where} is ${job.state}: ${job.failure?.message ?? "it has no answer to collect"}`;
  return { text, structured: { jobId: job.id, state: job.state, tool: job.tool, model: job.model, ageMs: job.ageMs, progress: job.progress } };
}

/** A duration in whole seconds, or tenths below ten. */
export const seconds = (ms: number) => (ms >= 10_000 ? Math.round(ms / 1000) : Math.round(ms / 100) / 10);
