import { z } from "zod";
import type { JobRunner, JobView } from "../services/jobs.js";
import { seconds } from "./handOff.js";
import type { ToolDefinition } from "./tool.js";

const parameters = z.object({});

function line(job: JobView): string {
  const progress = job.progress ? ` · ${job.progress}` : "";
  return `- ${job.id} · ${job.tool} · ${job.model} · ${job.state} · ${seconds(job.ageMs)} s old${progress}`;
}

export function listJobsTool(deps: { jobs: JobRunner }): ToolDefinition<typeof parameters> {
  return {
    name: "list_jobs",
    description:
      "Lists your jobs (long ask_llm, compare_models and ask_docs calls that went on in the background), newest first: id, tool, model, state (running, completed, failed, cancelled, interrupted), age and progress. Collect a job's answer with get_job; stop or remove one with cancel_job.",
    parameters,
    annotations: { title: "List your jobs", readOnlyHint: true, openWorldHint: false },
    run: async (_args, context) => {
      const jobs = await deps.jobs.list(context.caller.id);
      const text =
        jobs.length === 0
          ? "You have no jobs."
          : [
              `${jobs.length} job(s), newest first:`,
              ...jobs.map(line),
              "",
              "Collect an answer with get_job (job_id); stop or remove a job with cancel_job.",
            ].join("\n");
      return {
        text,
        structured: {
          jobs: jobs.map((job) => ({ jobId: job.id, tool: job.tool, model: job.model, state: job.state, ageMs: job.ageMs, progress: job.progress })),
        },
      };
    },
  };
}
