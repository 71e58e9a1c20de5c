import { LlmError } from "../../llm/errors.js";
import type { EmbedRequest, EmbedResult } from "../../llm/providers/ollamaApi.js";
import { MAX_DIMENSIONS } from "../../state/documentIndex.js";

/** What the embedder needs of Ollama: its /api/embed. */
export type EmbedSource = { embed(request: EmbedRequest, signal?: AbortSignal): Promise<EmbedResult> };

/** Runs one request, e.g. in a provider slot (the server's fair limiter); the CLI runs it as it is. */
export type Run = <T>(work: () => Promise<T>, signal: AbortSignal | undefined, owner: string) => Promise<T>;

export type EmbedderOptions = {
  ollama: EmbedSource;
  model: string;
  /** 0: the model's own length. */
  dimensions: number;
  batchSize?: number;
  run?: Run;
};

export type DocumentText = { title: string; heading: string; body: string };

type Prompts = { query: (text: string) => string; document: (text: DocumentText) => string };

const plain = (d: DocumentText) => `${d.title}${d.heading ? `\n${d.heading}` : ""}\n\n${d.body}`;

/**
 * The input format each model was trained with (their model cards): several expect a task prefix,
 * and search quality drops without it. Other models get the text as it is.
 */
const PROMPTS: Record<string, Prompts> = {
  embeddinggemma: {
    query: (q) => `task: search result | query: ${q}`,
    document: (d) => `title: ${d.title}${d.heading ? ` › ${d.heading}` : ""} | text: ${d.body}`,
  },
  "nomic-embed-text": { query: (q) => `search_query: ${q}`, document: (d) => `search_document: ${plain(d)}` },
  "mxbai-embed-large": { query: (q) => `Represent this sentence for searching relevant passages: ${q}`, document: plain },
  "qwen3-embedding": { query: (q) => `Instruct: Given a question, retrieve passages that answer it\nQuery: ${q}`, document: plain },
};

const baseName = (model: string) => model.split("/").at(-1)!.split(":")[0]!.toLowerCase();

/**
 * Embeddings from one Ollama model, in batches: every vector checked to be of the length this
 * model gives (the first answer sets it, or EMBED_DIMENSIONS), and Ollama's failures turned into
 * messages that say which model to pull or to choose.
 */
export class Embedder {
  readonly model: string;
  private readonly prompts: Prompts;
  private length: number | undefined;

  constructor(private readonly options: EmbedderOptions) {
    this.model = options.model;
    this.prompts = PROMPTS[baseName(options.model)] ?? { query: (q) => q, document: plain };
  }

  /** The length of this model's vectors (asked once, with a one-word text). */
  async dimensions(signal?: AbortSignal, owner = "indexer"): Promise<number> {
    if (this.length === undefined) await this.request(["dimensions"], signal, owner);
    return this.length!;
  }

  async embedQuery(text: string, signal: AbortSignal | undefined, owner: string): Promise<{ vector: number[]; tokens: number }> {
    const { vectors, tokens } = await this.request([this.prompts.query(text)], signal, owner);
    return { vector: vectors[0]!, tokens };
  }

  /** Every chunk of a document, in batches; `onBatch` hears how many are done. Nothing is returned unless all succeeded. */
  async embedDocuments(
    texts: DocumentText[],
    signal: AbortSignal | undefined,
    owner: string,
    onBatch?: (done: number) => void,
  ): Promise<{ vectors: number[][]; tokens: number }> {
    const size = this.options.batchSize ?? 32;
    const vectors: number[][] = [];
    let tokens = 0;
    for (let start = 0; start < texts.length; start += size) {
      const batch = await this.request(texts.slice(start, start + size).map(this.prompts.document), signal, owner);
      vectors.push(...batch.vectors);
      tokens += batch.tokens;
      onBatch?.(vectors.length);
    }
    return { vectors, tokens };
  }

  private async request(input: string[], signal: AbortSignal | undefined, owner: string): Promise<{ vectors: number[][]; tokens: number }> {
    const request: EmbedRequest = { model: this.model, input, ...(this.options.dimensions > 0 && { dimensions: this.options.dimensions }) };
    const run: Run = this.options.run ?? ((work) => work());
    let result: EmbedResult;
    try {
      result = await run(() => this.options.ollama.embed(request, signal), signal, owner);
    } catch (error) {
      throw this.explain(error);
    }
    const length = result.embeddings[0]!.length;
    const expected = this.length ?? (this.options.dimensions || undefined);
    if (expected !== undefined && length !== expected) {
      throw new LlmError(
        "provider_error",
        `The embedding model '${this.model}' returned vectors of ${length} dimensions where ${expected} were expected${this.options.dimensions ? " (EMBED_DIMENSIONS)" : " (its earlier answers)"}. Nothing was stored; check that EMBED_MODEL names the model you mean, and that EMBED_DIMENSIONS suits it.`,
        { provider: "ollama", model: this.model },
      );
    }
    if (length > MAX_DIMENSIONS) {
      throw new LlmError(
        "bad_request",
        `The embedding model '${this.model}' gives ${length}-dimensional vectors; the search index takes at most ${MAX_DIMENSIONS}. Set EMBED_DIMENSIONS=1024 (models such as qwen3-embedding can shorten theirs), or choose another model, e.g. embeddinggemma.`,
        { provider: "ollama", model: this.model },
      );
    }
    this.length = length;
    return { vectors: result.embeddings, tokens: result.promptTokens ?? 0 };
  }

  private explain(error: unknown): unknown {
    if (!(error instanceof LlmError)) return error;
    if (error.kind === "model_not_found") {
      return new LlmError(
        "model_not_found",
        `The embedding model '${this.model}' (EMBED_MODEL) is not pulled into Ollama. Pull it with \`ollama pull ${this.model}\`, or set EMBED_MODEL to an embedding model you have.`,
        error.details,
      );
    }
    if (error.kind === "bad_request" && /embed/i.test(error.message)) {
      return new LlmError(
        "bad_request",
        `'${this.model}' (EMBED_MODEL) is not an embedding model: ${error.message} Set EMBED_MODEL to one, e.g. embeddinggemma or nomic-embed-text.`,
        error.details,
      );
    }
    return error;
  }
}
