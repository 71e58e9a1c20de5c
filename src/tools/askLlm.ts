import { z } from "zod";
import type { AppContext } from "../app.js";
import type { ChatMessage } from "../llm/types.js";
import { modelName } from "./schemas.js";
import type { ToolDefinition } from "./toolkit.js";

const parameters = z.object({
  prompt: z.string().min(1, "prompt must not be empty").describe("The question or instruction for the model."),
  model: modelName
    .optional()
    .describe(
      "Model to ask. A bare Ollama name (qwen3:4b, gemma3:12b, deepseek-r1:14b) runs locally; prefix openai/ for a cloud model (openai/gpt-4o-mini). Omit for the server's default (LLM_MODEL). Call list_models to see what is available.",
    ),
  system: z.string().optional().describe("Optional system prompt that sets the model's role or rules."),
  temperature: z.number().min(0).max(2).optional().describe("Sampling temperature, 0 (deterministic) to 2 (creative)."),
  max_tokens: z.number().int().min(1).max(131_072).optional().describe("Upper bound on the number of tokens in the answer."),
});

export function askLlmTool(app: AppContext): ToolDefinition<typeof parameters> {
  return {
    name: "ask_llm",
    description:
      "Sends a prompt to one language model (a local Ollama model or an OpenAI-compatible cloud model) and returns its answer with the model, provider, token counts and latency.",
    parameters,
    annotations: { title: "Ask a language model", readOnlyHint: true, openWorldHint: true },
    run: async (args, context, record) => {
      const target = app.router.resolve(args.model ?? app.config.defaultModel);
      record.provider = target.provider.name;
      record.model = target.model;
      const messages: ChatMessage[] = [
        ...(args.system ? [{ role: "system" as const, content: args.system }] : []),
        { role: "user", content: args.prompt },
      ];
      const started = performance.now();
      const result = await target.provider.chat({
        model: target.model,
        messages,
        temperature: args.temperature,
        maxTokens: args.max_tokens,
        signal: context.signal,
      });
      const latencyMs = Math.round(performance.now() - started);
      record.promptTokens = result.promptTokens;
      record.completionTokens = result.completionTokens;
      const tokens = `${result.promptTokens ?? "?"} in / ${result.completionTokens ?? "?"} out tokens`;
      return {
        text: `${result.text}\n\n— ${target.qualifiedName} (${target.provider.name}) · ${tokens} · ${latencyMs} ms`,
        structured: {
          answer: result.text,
          model: target.qualifiedName,
          provider: target.provider.name,
          promptTokens: result.promptTokens ?? null,
          completionTokens: result.completionTokens ?? null,
          latencyMs,
          finishReason: result.finishReason ?? null,
        },
      };
    },
  };
}
