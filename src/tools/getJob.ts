import { z } from "zod";
import { ReportedFailure } from "../failure.js";
import type { JobRunner } from "../services/jobs.js";
import { jobStatus, seconds, unknownJob } from "./handOff.js";
import { ProgressReporter } from "./progress.js";
import { jobId } from "./schemas.js";
import type { ToolDefinition } from "./tool.js";

function parametersFor(waitCapS: number) {
  return z.object({
    job_id: jobId,
    wait_seconds: z
      .number()
      .min(0, "wait_seconds is 0 or more")
      .max(3_600)
      .optional()
      .describe(
        `How long to wait for the answer, in seconds: at most ${waitCapS} (more is lowered to that, to stay below clients' timeouts), which is also the default. 0 answers at once with the job's state.`,
      ),
  });
}

export function getJobTool(deps: { jobs: JobRunner; progressIntervalMs: number }): ToolDefinition<ReturnType<typeof parametersFor>> {
  const waitCapS = seconds(deps.jobs.waitCapMs);
  return {
    name: "get_job",
    description: `Collects the answer of a job. ask_llm, compare_models and ask_docs hand a slow answer over as a job_id (their result says the answer is still being written); call get_job with that job_id right away, without asking the user. It waits up to wait_seconds (at most ${waitCapS} s) for the job, reporting progress while it waits, and returns the answer exactly as the tool that started it would have. If the job is still running then, the result says so with its progress: call get_job again with the same job_id.`,
    parameters: parametersFor(waitCapS),
    annotations: { title: "Collect a job's answer", readOnlyHint: true, openWorldHint: false },
    run: async ({ job_id, wait_seconds }, context) => {
      const progress = new ProgressReporter(context.reportProgress, `job ${job_id.slice(0, 8)}`, deps.progressIntervalMs);
      const waitMs = (wait_seconds ?? waitCapS) * 1000;
      const job = await deps.jobs
        .collect(job_id, context.caller.id, waitMs, context.signal, (message) => progress.step(() => message))
        .finally(() => progress.stop());
      if (!job) throw unknownJob(job_id);
      if (job.state === "completed" && job.result) return job.result;
      if ((job.state === "failed" || job.state === "interrupted") && job.failure) throw new ReportedFailure(job.failure);
      return jobStatus(job, deps.jobs.waitCapMs);
    },
  };
}
