import { z } from "zod";

/**
 * A model name as Ollama or an OpenAI-compatible API spells it, optionally prefixed with
 * `ollama/` or `openai/`. Path tricks and control characters are refused before any request.
 */
export const modelName = z
  .string()
  .trim()
  .min(1, "a model name is required, e.g. qwen3:4b or openai/gpt-4o-mini")
  .max(200, "model names are at most 200 characters")
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$/, "model names use letters, digits and . _ : / @ + - (e.g. qwen3:4b, openai/gpt-4o-mini)")
  .refine((name) => !name.split("/").some((part) => part === ".." || part === "."), "model names may not contain '.' or '..' path segments");

export const think = z
  .union([z.boolean(), z.enum(["low", "medium", "high"])], { error: 'think takes true, false, "low", "medium" or "high"' })
  .describe(
    "Reasoning models (qwen3, deepseek-r1, gpt-oss): false asks the model not to think; true or a level asks it to. The trace is returned separately, never inside the answer.",
  );

export const temperature = z.number().min(0).max(2).describe("Sampling temperature, 0 (deterministic) to 2 (creative).");

export const maxTokens = z.number().int().min(1).max(131_072).describe("Upper bound on the number of tokens in the answer.");

export const jobId = z
  .string()
  .uuid("job_id is the id an ask_llm, compare_models or list_jobs result gave")
  .describe("The job_id an ask_llm or compare_models result gave (or list_jobs shows).");
