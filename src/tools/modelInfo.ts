import { z } from "zod";
import type { AppContext } from "../app.js";
import { LlmError } from "../llm/errors.js";
import { modelName } from "./schemas.js";
import type { ToolDefinition } from "./toolkit.js";

const parameters = z.object({
  model: modelName.describe("An installed Ollama model, e.g. qwen3:4b (see list_models)."),
});

/** Only Ollama describes its models this way; a cloud model name is refused with a pointer. */
export function ollamaModelName(app: AppContext, name: string, tool: string): string {
  const target = app.router.resolve(name);
  if (target.provider.name !== "ollama") {
    throw new LlmError("bad_request", `${tool} works with Ollama models only; '${name}' is a ${target.provider.name} model.`, { provider: target.provider.name, model: target.model });
  }
  return target.model;
}

export function modelInfoTool(app: AppContext): ToolDefinition<typeof parameters> {
  return {
    name: "model_info",
    description:
      "Describes an installed Ollama model: context length, parameter size, quantization, family, and capabilities (completion, tools, thinking, vision). Use it to pick a model or a num_ctx for ask_llm.",
    parameters,
    annotations: { title: "Describe an Ollama model", readOnlyHint: true, openWorldHint: false },
    run: async ({ model }, context, record) => {
      const name = ollamaModelName(app, model, "model_info");
      Object.assign(record, { provider: "ollama", model: name });
      const info = await app.ollama.show(name, context.signal);
      const text = [
        `${info.name}`,
        `- context length: ${info.contextLength ?? "unknown"} tokens`,
        `- parameters: ${info.parameterSize ?? "unknown"}`,
        `- quantization: ${info.quantization ?? "unknown"}`,
        `- family: ${info.family ?? "unknown"}`,
        `- capabilities: ${info.capabilities.join(", ") || "unknown"}`,
      ].join("\n");
      return { text, structured: { ...info } };
    },
  };
}
