import { z } from "zod";
import type { AppContext } from "../app.js";
import type { PullProgress } from "../llm/ollamaNative.js";
import { sameOllamaModel } from "../llm/ollama.js";
import { ollamaModelName } from "./modelInfo.js";
import { modelName } from "./schemas.js";
import type { ToolDefinition } from "./toolkit.js";

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

export function pullModelTool(app: AppContext): ToolDefinition<typeof parameters> {
  return {
    name: "pull_model",
    description:
      "Downloads a model into Ollama (like `ollama pull`), reporting progress in bytes as it goes, and ends with the model's size and digest. Large models take minutes; the call keeps reporting progress.",
    parameters,
    annotations: { title: "Pull an Ollama model", readOnlyHint: false, idempotentHint: true, openWorldHint: true },
    run: async ({ model }, context, record) => {
      const name = ollamaModelName(app, model, "pull_model");
      Object.assign(record, { provider: "ollama", model: name });
      const totals = layerTotals();
      let lastProgress = -1;
      await app.ollama.pull(name, context.signal, (line) => {
        const { completed, total } = totals(line);
        if (completed > lastProgress || line.status === "success") {
          lastProgress = Math.max(completed, lastProgress + 1);
          void context.reportProgress({ progress: lastProgress, ...(total > 0 && { total }), message: `${name}: ${line.status}` }).catch(() => undefined);
        }
      });
      app.catalog.invalidate("ollama");
      const installed = (await app.ollama.listModels(context.signal)).find((m) => sameOllamaModel(m.name, name));
      const details = installed ? { sizeBytes: installed.sizeBytes ?? null, digest: installed.digest ?? null, parameterSize: installed.parameterSize ?? null, quantization: installed.quantization ?? null } : {};
      const size = installed?.sizeBytes ? `${(installed.sizeBytes / 1e9).toFixed(1)} GB` : "size unknown";
      return { text: `Pulled ${name}: ${size}, digest ${details.digest ?? "unknown"}.`, structured: { model: name, status: "success", ...details } };
    },
  };
}
