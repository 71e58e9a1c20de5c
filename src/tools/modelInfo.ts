import { z } from "zod";
import type { ModelRouter } from "../llm/gateway/router.js";
import type { OllamaProvider } from "../llm/providers/ollama.js";
import { ollamaModelName } from "./ollamaName.js";
import { modelName } from "./schemas.js";
import type { ToolDefinition } from "./tool.js";

const parameters = z.object({
  model: modelName.describe("An installed Ollama model, e.g. qwen3:4b (see list_models)."),
});

export function modelInfoTool(deps: { router: ModelRouter; ollama: OllamaProvider }): ToolDefinition<typeof parameters> {
  return {
    name: "model_info",
    description:
      "Describes an installed Ollama model: context length, parameter size, quantization, family, and capabilities (completion, tools, thinking, vision). Use it to pick a model or a num_ctx for ask_llm.",
    parameters,
    annotations: { title: "Describe an Ollama model", readOnlyHint: true, openWorldHint: false },
    run: async ({ model }, context, record) => {
      const name = ollamaModelName(deps.router, model, "model_info");
      Object.assign(record, { provider: "ollama", model: name });
      const info = await deps.ollama.show(name, context.signal);
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
