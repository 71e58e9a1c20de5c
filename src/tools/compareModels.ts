import { z } from "zod";
import { LlmError } from "../llm/errors.js";
import type { ChatCall, LlmGateway } from "../llm/gateway/gateway.js";
import type { ResolvedModel } from "../llm/gateway/router.js";
import type { JobRunner } from "../services/jobs.js";
import { background, runAsJob, seconds } from "./handOff.js";
import { capOutput } from "./output.js";
import { ProgressReporter } from "./progress.js";
import { maxTokens, modelName, temperature, think } from "./schemas.js";
import { refuseLongPrompt, type ToolDefinition, ToolError } from "./tool.js";

export type CompareModelsDeps = { gateway: LlmGateway; jobs: JobRunner; maxOutputChars: number; maxPromptChars: number; progressIntervalMs: number };

const parameters = z.object({
  prompt: z.string().min(1, "prompt must not be empty").describe("The prompt every model gets, unchanged."),
  models: z
    .array(modelName)
    .min(2, "compare at least 2 models")
    .max(8, "compare at most 8 models")
    .refine((models) => new Set(models).size === models.length, "each model once")
    .describe('2 to 8 model names, any providers, e.g. ["qwen3:4b", "gemma3:12b", "openai/gpt-4o-mini"].'),
  system: z.string().optional().describe("Optional system prompt, the same for every model."),
  temperature: temperature.optional(),
  max_tokens: maxTokens.optional(),
  think: think.optional(),
  show_thinking: z.boolean().optional().describe("Also return each model's reasoning trace. Off by default: reasoning is kept out of the result."),
  background,
});

export type Comparison = {
  model: string;
  provider: string | null;
  ok: boolean;
  answer: string | null;
  thinking: string | null;
  timeToFirstTokenMs: number | null;
  totalMs: number | null;
  tokensPerSecond: number | null;
  promptTokens: number | null;
  completionTokens: number | null;
  error: string | null;
};

async function compareOne(gateway: LlmGateway, target: ResolvedModel, call: ChatCall, maxChars: number, showThinking: boolean): Promise<Comparison> {
  const empty = {
    provider: null,
    answer: null,
    thinking: null,
    timeToFirstTokenMs: null,
    totalMs: null,
    tokensPerSecond: null,
    promptTokens: null,
    completionTokens: null,
  };
  try {
    const result = await gateway.chat(target, call, { fallbacks: false });
    const generatingMs = result.durationMs - (result.timeToFirstTokenMs ?? 0);
    const rate = result.completionTokens && generatingMs > 0 ? (result.completionTokens * 1000) / generatingMs : null;
    return {
      model: result.qualifiedName,
      provider: result.provider,
      ok: true,
      answer: capOutput(result.text, maxChars).text,
      thinking: showThinking && result.thinking ? capOutput(result.thinking, maxChars).text : null,
      timeToFirstTokenMs: result.timeToFirstTokenMs ?? null,
      totalMs: result.durationMs,
      tokensPerSecond: rate === null ? null : Math.round(rate * 10) / 10,
      promptTokens: result.promptTokens ?? null,
      completionTokens: result.completionTokens ?? null,
      error: null,
    };
  } catch (error) {
    const message = error instanceof LlmError ? error.message : String(error);
    return { ...empty, model: target.qualifiedName, ok: false, error: message };
  }
}

const cell = (value: number | null, unit = "") => (value === null ? "–" : `${value}${unit}`);

function table(results: Comparison[]): string {
  const rows = results.map(
    (r) =>
      `| ${r.model} | ${r.provider ?? "–"} | ${cell(r.timeToFirstTokenMs, " ms")} | ${cell(r.totalMs, " ms")} | ${cell(r.tokensPerSecond)} | ${cell(r.promptTokens)} / ${cell(r.completionTokens)} | ${r.ok ? "ok" : "failed"} |`,
  );
  const answers = results.map((r) => `### ${r.model}\n${r.ok ? r.answer : `**failed:** ${r.error}`}`);
  return ["| model | provider | first token | total | tokens/s | tokens in / out | status |", "|---|---|---|---|---|---|---|", ...rows, "", ...answers].join(
    "\n",
  );
}

export function compareModelsTool(deps: CompareModelsDeps): ToolDefinition<typeof parameters> {
  return {
    name: "compare_models",
    description: `Sends the same prompt to 2–8 models at once (local Ollama and cloud models mixed) and compares them: each answer, time to first token, total time, output tokens per second and token counts, as a markdown table. A model that fails shows its error; the others still answer. A slow comparison (still running after ${seconds(deps.jobs.waitCapMs)} s) comes back as a job_id instead: call get_job with it to collect the table, without asking the user.`,
    parameters,
    annotations: { title: "Compare models on one prompt", readOnlyHint: true, openWorldHint: true },
    run: async (args, context, record) => {
      refuseLongPrompt(deps.maxPromptChars, args.prompt, args.system);
      const targets = args.models.map((model) => deps.gateway.resolve(model));
      const model = targets.map((target) => target.qualifiedName).join(", ");
      return runAsJob(deps.jobs, { tool: "compare_models", model, background: args.background, context }, async (job) => {
        const progress = new ProgressReporter(job.reportProgress, "compare_models", deps.progressIntervalMs);
        const messages = [...(args.system ? [{ role: "system" as const, content: args.system }] : []), { role: "user" as const, content: args.prompt }];
        const perModelChars = Math.floor(deps.maxOutputChars / args.models.length);
        const call: ChatCall = {
          messages,
          temperature: args.temperature,
          maxTokens: args.max_tokens,
          think: args.think,
          signal: job.signal,
          owner: context.caller.id,
          maxAnswerChars: perModelChars,
        };
        let finished = 0;
        const results = await Promise.all(
          targets.map((target) =>
            compareOne(deps.gateway, target, call, perModelChars, args.show_thinking ?? false).then((result) => {
              const done = ++finished;
              progress.step(() => `${done}/${args.models.length} models done (${result.model} ${result.ok ? "answered" : "failed"})`);
              return result;
            }),
          ),
        ).finally(() => progress.stop());
        record.completionTokens = results.reduce((sum, r) => sum + (r.completionTokens ?? 0), 0);
        if (results.every((r) => !r.ok)) throw new ToolError(`Every model failed:\n${results.map((r) => `- ${r.model}: ${r.error}`).join("\n")}`);
        return { text: table(results), structured: { prompt: args.prompt, results } };
      });
    },
  };
}
