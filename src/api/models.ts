import type { IncomingMessage } from "node:http";
import type { LlmGateway } from "../llm/gateway/gateway.js";
import type { ResolvedModel } from "../llm/gateway/router.js";
import { sameOllamaModel } from "../llm/providers/ollama.js";
import type { ModelCatalog } from "../services/catalog.js";
import type { ModelAliases } from "./aliases.js";
import { ApiError } from "./errors.js";

export type ModelDeps = { gateway: LlmGateway; catalog: ModelCatalog; aliases: ModelAliases };

type Listed = { id: string; ownedBy: string };

/** Every name a client may send: the providers' models by the names the MCP tools use, then the exact aliases. */
export async function listModels({ catalog, aliases }: Pick<ModelDeps, "catalog" | "aliases">): Promise<Listed[]> {
  const listings = await catalog.list();
  const models = listings.flatMap((listing) =>
    "models" in listing
      ? listing.models.map((m) => ({ id: listing.provider === "ollama" ? m.name : `${listing.provider}/${m.name}`, ownedBy: listing.provider }))
      : [],
  );
  if (models.length === 0 && listings.every((listing) => "error" in listing)) {
    throw new ApiError(502, listings.map((listing) => ("error" in listing ? `${listing.provider}: ${listing.error}` : "")).join("\n"), { kind: "unreachable" });
  }
  return [...models, ...aliases.exactNames().map((rule) => ({ id: rule.pattern, ownedBy: `alias of ${rule.model}` }))];
}

/** GET /v1/models in OpenAI's list shape, or Anthropic's for a client that sends `anthropic-version`. */
export function modelsBody(req: IncomingMessage, models: Listed[]): unknown {
  if (req.headers["anthropic-version"] === undefined) {
    return { object: "list", data: models.map((m) => ({ id: m.id, object: "model", created: 0, owned_by: m.ownedBy })) };
  }
  const data = models.map((m) => ({ type: "model", id: m.id, display_name: m.id, created_at: "1970-01-01T00:00:00Z" }));
  return { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
}

/**
 * The model a request names, resolved: MODEL_ALIASES first, then the router (LOCAL_ONLY refuses a
 * cloud model here, before any byte leaves). An Ollama model that Ollama does not list is refused
 * with the API's not-found error naming the models there are, before anything is generated.
 */
export async function resolveModel(deps: ModelDeps, requested: string): Promise<ResolvedModel> {
  const name = deps.aliases.resolve(requested);
  const target = deps.gateway.resolve(name);
  if (target.provider.name !== "ollama") return target;
  const has = async () => {
    const [listing] = await deps.catalog.list("ollama");
    return !listing || !("models" in listing) ? undefined : listing.models.some((m) => sameOllamaModel(m.name, target.model));
  };
  if ((await has()) !== false) return target;
  // Pulled a moment ago? The cached list is asked once more, fresh.
  deps.catalog.invalidate("ollama");
  if ((await has()) !== false) return target;
  throw await notFound(deps, requested, name);
}

async function notFound(deps: ModelDeps, requested: string, name: string): Promise<ApiError> {
  const names = (await listModels(deps).catch(() => [])).map((m) => m.id);
  const shown = names.length > 20 ? `${names.slice(0, 20).join(", ")} and ${names.length - 20} more` : names.join(", ") || "none";
  const aliased = name === requested ? "" : ` (MODEL_ALIASES maps '${requested.slice(0, 100)}' to it)`;
  const message = `The model '${name.slice(0, 100)}'${aliased} does not exist on this server. Models: ${shown}. Pull it into Ollama, or map the name with MODEL_ALIASES.`;
  return new ApiError(404, message, { kind: "model_not_found", code: "model_not_found", param: "model" });
}
