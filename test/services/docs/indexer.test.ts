import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { LlmError } from "../../../src/llm/errors.js";
import { createHttpClient } from "../../../src/llm/providers/httpClient.js";
import { OllamaProvider } from "../../../src/llm/providers/ollama.js";
import { Embedder, type EmbedSource } from "../../../src/services/docs/embedder.js";
import { type IndexEvent, Indexer, type IndexOptions } from "../../../src/services/docs/indexer.js";
import { DocumentStore, SHARED } from "../../../src/state/documents.js";
import { StateStore } from "../../../src/state/store.js";
import { OllamaStandIn } from "../../support/ollamaStandIn.js";
import { freshDataDir, removeDataDir } from "../../support/state.js";

const http = createHttpClient({ connectTimeoutMs: 1_000 });
const limits = { firstTokenMs: 10_000, idleMs: 10_000, totalMs: 10_000 };
let ollama: OllamaStandIn;
let dataDir: string;
let store: StateStore;
let docs: DocumentStore;
let folder: string;

beforeAll(async () => {
  ollama = await new OllamaStandIn().start();
});
afterAll(async () => {
  await http.close();
  await ollama.stop();
});
beforeEach(async () => {
  await store?.close();
  if (dataDir) removeDataDir(dataDir);
  dataDir = await freshDataDir();
  store = new StateStore({ dataDir, databaseUrl: undefined, onPoolError: () => undefined });
  docs = new DocumentStore(store);
  folder = join(mkdtempSync(join(tmpdir(), "mcp-lab-index-")), "notes");
  mkdirSync(folder);
  writeFileSync(join(folder, "garden.md"), "# Garden\n\n## Tomatoes\n\nWater them every morning.\n\n## Roses\n\nPrune in winter.");
  writeFileSync(join(folder, "recipes.txt"), "Bread needs flour, water, salt and time.");
  ollama.reset();
});

type RunOptions = Partial<IndexOptions> & { model?: string; dimensions?: number; wrap?: (source: EmbedSource) => EmbedSource };

function run(options: RunOptions = {}) {
  const events: IndexEvent[] = [];
  const provider = new OllamaProvider({ baseUrl: ollama.baseUrl, http, limits, pullLimits: limits });
  const source = options.wrap ? options.wrap(provider) : provider;
  const embedder = new Embedder({ ollama: source, model: options.model ?? "embeddinggemma", dimensions: options.dimensions ?? 0, batchSize: 4 });
  const indexer = new Indexer(docs, embedder, (event) => events.push(event));
  const done = indexer.run({ paths: [folder], prune: false, maxDocumentBytes: 10_000, maxFiles: 100, signal: new AbortController().signal, ...options });
  return { events, indexer, done, notes: () => events.flatMap((e) => (e.type === "note" ? [e.message] : [])) };
}

const embedCalls = () => ollama.requests.filter((r) => r.path === "/api/embed").length;
const stored = async (name: string) => {
  const found = await docs.find(SHARED, join(folder, name));
  return found && (await docs.get(found.id, SHARED));
};

describe("pnpm index, incrementally", () => {
  it("indexes a folder, then embeds only what changed, and prunes only when asked", async () => {
    const first = await run().done;
    expect(first).toMatchObject({ model: "embeddinggemma", dimensions: 768, files: 2, indexed: 2, unchanged: 0, chunks: 3 });
    expect(first.tokens).toBeGreaterThan(10);
    expect((await stored("garden.md"))?.section).toBe("notes");

    ollama.reset();
    const again = await run().done;
    expect(again).toMatchObject({ indexed: 0, unchanged: 2, chunks: 0, tokens: 0 });
    expect(embedCalls()).toBe(1); // the one-word probe for the vector length, nothing else

    writeFileSync(join(folder, "recipes.txt"), "Bread needs flour, water, salt, yeast and time.");
    rmSync(join(folder, "garden.md"));
    const changed = await run().done;
    expect(changed).toMatchObject({ files: 1, indexed: 1, unchanged: 0, removed: 0 });
    expect((await stored("recipes.txt"))?.content).toContain("yeast");
    expect(await docs.find(SHARED, join(folder, "garden.md"))).toBeDefined();

    const pruned = run({ prune: true });
    expect(await pruned.done).toMatchObject({ unchanged: 1, removed: 1 });
    expect(pruned.notes()).toEqual(["removed notes/garden.md: the file is gone"]);
    expect(await docs.find(SHARED, join(folder, "garden.md"))).toBeUndefined();
  });

  it("embeds everything again when EMBED_MODEL changes, says so, and leaves one space", async () => {
    await run().done;
    const switched = run({ model: "all-minilm" });
    expect(await switched.done).toMatchObject({ model: "all-minilm", dimensions: 384, reembedded: 2, unchanged: 2, indexed: 0 });
    expect(switched.notes()[0]).toBe(
      "EMBED_MODEL is all-minilm (384 dimensions), but 2 document(s) were embedded with embeddinggemma (768 dimensions): embedding them again. Searches meanwhile see only the documents already done, never a mix.",
    );
    expect(await docs.spaces()).toEqual([expect.objectContaining({ model: "all-minilm", dimensions: 384 })]);
    // The same model at another length (EMBED_DIMENSIONS) is another space too.
    expect(await run({ model: "all-minilm", dimensions: 128 }).done).toMatchObject({ dimensions: 128, reembedded: 2 });
  });

  it("leaves a file as it was when the embedding fails in the middle of it, and stops there", async () => {
    await run().done;
    const before = await stored("garden.md");
    const sections = Array.from({ length: 12 }, (_, i) => `## Part ${i}\n\nText of part ${i}.`).join("\n\n");
    writeFileSync(join(folder, "garden.md"), `# Garden\n\n${sections}`);
    ollama.behaviour.embedFailAfter = 2; // the probe, the first batch of four; the second batch fails
    const failing = run();
    const error = await failing.done.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LlmError);
    expect((error as Error).message).toContain("GGML_ASSERT failed");
    expect(await stored("garden.md")).toEqual(before);
    expect(failing.indexer.progress).toMatchObject({ indexed: 0, chunks: 0 });
    ollama.behaviour.embedFailAfter = undefined;
    expect(await run().done).toMatchObject({ indexed: 1, unchanged: 1, chunks: 12 });
  });

  it("refuses vectors of another length than the model gave before, or than EMBED_DIMENSIONS, and writes nothing", async () => {
    await run().done;
    writeFileSync(join(folder, "recipes.txt"), "Changed.");
    const before = await stored("recipes.txt");
    // After its first answer (the probe), the model starts answering shorter vectors.
    let calls = 0;
    const shrinking = (source: EmbedSource): EmbedSource => ({
      embed: async (request, signal) => {
        const result = await source.embed(request, signal);
        return calls++ === 0 ? result : { ...result, embeddings: result.embeddings.map((v) => v.slice(0, 700)) };
      },
    });
    const error = await run({ wrap: shrinking }).done.catch((caught: unknown) => caught);
    expect((error as Error).message).toBe(
      "The embedding model 'embeddinggemma' returned vectors of 700 dimensions where 768 were expected (its earlier answers). Nothing was stored; check that EMBED_MODEL names the model you mean, and that EMBED_DIMENSIONS suits it.",
    );
    expect(await stored("recipes.txt")).toEqual(before);
    ollama.behaviour.embedDimensions = 700;
    await expect(run({ dimensions: 512 }).done).rejects.toThrow("returned vectors of 700 dimensions where 512 were expected (EMBED_DIMENSIONS)");
    expect(await stored("recipes.txt")).toEqual(before);
  });

  it("names the model to pull when it is missing, and says when a model does not embed", async () => {
    await expect(run({ model: "mxbai-embed-large" }).done).rejects.toThrow(
      "The embedding model 'mxbai-embed-large' (EMBED_MODEL) is not pulled into Ollama. Pull it with `ollama pull mxbai-embed-large`, or set EMBED_MODEL to an embedding model you have.",
    );
    await expect(run({ model: "qwen3:4b" }).done).rejects.toThrow("'qwen3:4b' (EMBED_MODEL) is not an embedding model");
    expect(await docs.spaces()).toEqual([]);
  });

  it("skips binaries and files over the size cap, each with a one-line note", async () => {
    writeFileSync(join(folder, "photo.jpg"), Buffer.from([0xff, 0xd8, 0xff, 0x00, 0x10]));
    writeFileSync(join(folder, "huge.md"), "x".repeat(10_001));
    const indexing = run();
    expect(await indexing.done).toMatchObject({ files: 4, indexed: 2, skipped: 2 });
    expect(indexing.notes()).toEqual([
      "skipped notes/huge.md: larger than 10000 bytes (DOCS_MAX_DOCUMENT_BYTES)",
      "skipped notes/photo.jpg: not text (binary)",
    ]);
  });

  it("skips a file of more passages than one document may have, before embedding it", async () => {
    writeFileSync(join(folder, "tiny.md"), "x\n# a\n".repeat(4_001));
    const indexing = run({ maxDocumentBytes: 100_000 });
    expect(await indexing.done).toMatchObject({ files: 3, indexed: 2, skipped: 1 });
    expect(indexing.notes()).toEqual([
      "skipped notes/tiny.md: it splits into 4001 passages (many very short sections), more than the 4000 one document may have; merge short sections or split it into several documents",
    ]);
    expect(await stored("tiny.md")).toBeUndefined();
  });

  it("skips a file with a NUL anywhere in it, not only at its start", async () => {
    writeFileSync(join(folder, "late.md"), `${"text ".repeat(4_000)}\u0000`);
    const indexing = run({ maxDocumentBytes: 100_000 });
    expect(await indexing.done).toMatchObject({ indexed: 2, skipped: 1 });
    expect(indexing.notes()).toEqual(["skipped notes/late.md: not text (binary)"]);
  });

  it("stops between files when interrupted; the files done so far stay", async () => {
    const stop = new AbortController();
    const indexing = run({ signal: stop.signal });
    indexing.events.push = function (this: IndexEvent[], ...items: IndexEvent[]) {
      if (items.some((e) => e.type === "file" && e.status === "indexed")) stop.abort();
      return Array.prototype.push.apply(this, items);
    };
    await expect(indexing.done).rejects.toThrow();
    expect(indexing.indexer.progress).toMatchObject({ indexed: 1 });
    expect(await stored("garden.md")).toBeDefined();
    expect(await docs.find(SHARED, join(folder, "recipes.txt"))).toBeUndefined();
  });
});
