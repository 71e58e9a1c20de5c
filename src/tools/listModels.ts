import { z } from "zod";
import type { ModelSummary } from "../llm/types.js";
import type { ModelCatalog } from "../services/catalog.js";
import { type ToolDefinition, ToolError } from "./tool.js";

const parameters = z.object({
  provider: z.enum(["ollama", "openai"]).optional().describe("Only list this provider's models. Omit to list every configured provider."),
});

function gigabytes(bytes: number | undefined): string {
  return bytes === undefined ? "" : `${(bytes / 1e9).toFixed(1)} GB`;
}

function describe(model: ModelSummary): string {
  const facts = [model.parameterSize, model.quantization, model.family, gigabytes(model.sizeBytes)].filter(Boolean);
  const name = model.provider === "ollama" ? model.name : `${model.provider}/${model.name}`;
  return facts.length ? `- ${name} (${facts.join(", ")})` : `- ${name}`;
}

export function listModelsTool(deps: { catalog: ModelCatalog; defaultModel: string }): ToolDefinition<typeof parameters> {
  return {
    name: "list_models",
    description:
      "Lists the models each configured provider really has: installed Ollama models with size, parameter count, quantization and family, and the OpenAI-compatible model ids. Use the names as the `model` argument of ask_llm.",
    parameters,
    annotations: { title: "List available models", readOnlyHint: true, openWorldHint: true },
    run: async ({ provider }, _context, record) => {
      record.provider = provider ?? "all";
      const listings = await deps.catalog.list(provider);
      const failures = listings.filter((listing) => "error" in listing);
      if (failures.length === listings.length) {
        throw new ToolError(failures.map((f) => `${f.provider}: ${"error" in f ? f.error : ""}`).join("\n"));
      }
      const sections = listings.map((listing) => {
        if ("error" in listing) return `## ${listing.provider}\nunavailable: ${listing.error}`;
        const lines = listing.models.map(describe);
        return `## ${listing.provider} (${listing.models.length})\n${lines.join("\n") || "no models"}`;
      });
      return {
        text: sections.join("\n\n"),
        structured: { providers: listings, defaultModel: deps.defaultModel },
      };
    },
  };
}
