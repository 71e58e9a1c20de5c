import { z } from "zod";
import type { ModelRouter } from "../llm/gateway/router.js";
import { type OllamaProvider, sameOllamaModel } from "../llm/providers/ollama.js";
import type { PullProgress } from "../llm/providers/ollamaApi.js";
import type { ModelCatalog } from "../services/catalog.js";
import { ollamaModelName } from "./ollamaName.js";
import { modelName } from "./schemas.js";
import { type ToolDefinition, ToolError } from "./tool.js";

const parameters = z.object({
  model: modelName.describe("The Ollama model to download, e.g. qwen3:4b or gemma3:12b (names as on ollama.com/library)."),
});

/** Bytes completed and total over every layer seen so far: grows monotonically, as progress must. */
function layerTotals() {
  const layers = new Map<string, { completed: number; total: number }>();
  return (line: PullProgress) => {
    if (line.digest && line.total) layers.set(line.digest, { completed: line.completed ?? 0, total: line.total });
    let completed = 0;
    let total = 0;
    for (const layer of layers.values()) {
      completed += layer.completed;
      total += layer.total;
    }
    return { completed, total };
  };
}

/** The registry host a name starts with (`evil.example.com/ns/model`, `10.0.0.1:5000/x`), if any. */
export function registryHost(name: string): string | undefined {
  const [first, ...rest] = name.split("/");
  return rest.length > 0 && first !== undefined && (/[.:]/.test(first) || first === "localhost") ? first : undefined;
}

const globToRegExp = (glob: string) => new RegExp(`^${glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`, "i");

/**
 * Whether the owner lets this name be pulled: PULL_ALLOWED (patterns such as `qwen3:*` or
 * `hf.co/*`) when set; otherwise any library name, but none with a registry host, which would make
 * Ollama connect to a host of the caller's choosing.
 */
export function pullRefusal(name: string, allowed: string[]): string | undefined {
  if (allowed.length > 0) {
    return allowed.some((pattern) => globToRegExp(pattern).test(name))
      ? undefined
      : `'${name}' is not among the models this server may pull (PULL_ALLOWED: ${allowed.join(", ")}).`;
  }
  const host = registryHost(name);
  return host ? `'${name}' names the registry ${host}; this server pulls only from Ollama's library unless PULL_ALLOWED lists other names.` : undefined;
}

export function pullModelTool(deps: {
  router: ModelRouter;
  ollama: OllamaProvider;
  catalog: ModelCatalog;
  allowed: string[];
}): ToolDefinition<typeof parameters> {
  let pulling: string | undefined;
  return {
    name: "pull_model",
    description:
      "Downloads a model into Ollama (like `ollama pull`), reporting progress in bytes as it goes, and ends with the model's size and digest. Large models take minutes; the call keeps reporting progress.",
    parameters,
    annotations: { title: "Pull an Ollama model", readOnlyHint: false, idempotentHint: true, openWorldHint: true },
    run: async ({ model }, context, record) => {
      const name = ollamaModelName(deps.router, model, "pull_model");
      Object.assign(record, { provider: "ollama", model: name });
      const refusal = pullRefusal(name, deps.allowed);
      if (refusal) throw new ToolError(refusal);
      if (pulling !== undefined) throw new ToolError(`A pull of '${pulling}' is running; pulls run one at a time. Try again when it has finished.`);
      pulling = name;
      const totals = layerTotals();
      let lastProgress = -1;
      await deps.ollama
        .pull(name, context.signal, (line) => {
          const { completed, total } = totals(line);
          if (completed > lastProgress || line.status === "success") {
            lastProgress = Math.max(completed, lastProgress + 1);
            void context.reportProgress({ progress: lastProgress, ...(total > 0 && { total }), message: `${name}: ${line.status}` }).catch(() => undefined);
          }
        })
        .finally(() => (pulling = undefined));
      deps.catalog.invalidate("ollama");
      const installed = (await deps.ollama.listModels(context.signal)).find((m) => sameOllamaModel(m.name, name));
      const details = installed
        ? {
            sizeBytes: installed.sizeBytes ?? null,
            digest: installed.digest ?? null,
            parameterSize: installed.parameterSize ?? null,
            quantization: installed.quantization ?? null,
          }
        : {};
      const size = installed?.sizeBytes ? `${(installed.sizeBytes / 1e9).toFixed(1)} GB` : "size unknown";
      return { text: `Pulled ${name}: ${size}, digest ${details.digest ?? "unknown"}.`, structured: { model: name, status: "success", ...details } };
    },
  };
}
