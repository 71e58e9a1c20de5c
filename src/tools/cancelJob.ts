import { z } from "zod";
import type { Cancelled, JobRunner } from "../services/jobs.js";
import { unknownJob } from "./handOff.js";
import { jobId } from "./schemas.js";
import type { ToolDefinition, ToolOutput } from "./tool.js";

const parameters = z.object({ job_id: jobId });

function said({ job, action }: Cancelled): string {
  const which = `Job ${job.id} (${job.tool}, ${job.model})`;
  if (action === "removed") return `${which} had already ended (${job.state}); it is removed now, with its result.`;
  if (action === "requested")
    return `${which}: the cancel is passed to the server process running it, which stops it within a few seconds (JOB_HEARTBEAT_MS). get_job shows when it has.`;
  if (job.state === "cancelled") return `${which} is cancelled: the model request was stopped, and nothing more is generated.`;
  return `${which} had already ended (${job.state}) before the cancel reached it. Its result is kept: collect it with get_job, or call cancel_job again to remove it.`;
}

export function cancelJobTool(deps: { jobs: JobRunner }): ToolDefinition<typeof parameters> {
  return {
    name: "cancel_job",
    description:
      "Stops a running job (started by ask_llm, compare_models or ask_docs) and aborts its model request, so the model stops generating; or removes a finished job and its result. Use it when the user no longer wants the answer, or to make room (jobs per token are capped).",
    parameters,
    annotations: { title: "Cancel or remove a job", readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    run: async ({ job_id }, context): Promise<ToolOutput> => {
      const cancelled = await deps.jobs.cancel(job_id, context.caller.id);
      if (!cancelled) throw unknownJob(job_id);
      const { job, action } = cancelled;
      return { text: said(cancelled), structured: { jobId: job.id, state: job.state, action, tool: job.tool, model: job.model } };
    },
  };
}
