import { LlmError } from "../llm/errors.js";
import type { LlmProvider, ModelSummary, ProviderName } from "../llm/types.js";

export type ProviderListing = { provider: ProviderName; models: ModelSummary[] } | { provider: ProviderName; error: string };

/** The models each provider really has, cached for a short TTL so list_models stays cheap. */
export class ModelCatalog {
  private readonly cache = new Map<ProviderName, { expires: number; listing: Promise<ProviderListing> }>();
  /** Every model a provider has listed, by the names the tools use (`qwen3:4b`, `openai/gpt-4o-mini`). */
  private readonly listed = new Set<string>();

  constructor(
    private readonly providers: LlmProvider[],
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  list(only?: ProviderName): Promise<ProviderListing[]> {
    const chosen = only ? this.providers.filter((p) => p.name === only) : this.providers;
    return Promise.all(chosen.map((provider) => this.listOne(provider)));
  }

  /** Whether a provider has listed this model (by the name the tools use). */
  knows(qualifiedName: string): boolean {
    return this.listed.has(qualifiedName);
  }

  invalidate(provider: ProviderName): void {
    this.cache.delete(provider);
  }

  private listOne(provider: LlmProvider): Promise<ProviderListing> {
    const cached = this.cache.get(provider.name);
    if (cached && cached.expires > this.now()) return cached.listing;
    const listing = provider.listModels().then(
      (models): ProviderListing => {
        for (const model of models.slice(0, 1_000)) this.listed.add(provider.name === "ollama" ? model.name : `${provider.name}/${model.name}`);
        return { provider: provider.name, models };
      },
      (error: unknown): ProviderListing => {
        this.cache.delete(provider.name);
        return { provider: provider.name, error: error instanceof LlmError ? error.message : String(error) };
      },
    );
    this.cache.set(provider.name, { expires: this.now() + this.ttlMs, listing });
    return listing;
  }
}
