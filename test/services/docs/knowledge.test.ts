import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHttpClient } from "../../../src/llm/providers/httpClient.js";
import { OllamaProvider } from "../../../src/llm/providers/ollama.js";
import { Embedder } from "../../../src/services/docs/embedder.js";
import { DocsError, KnowledgeBase } from "../../../src/services/docs/knowledge.js";
import { DocumentStore } from "../../../src/state/documents.js";
import { StateStore } from "../../../src/state/store.js";
import { OllamaStandIn } from "../../support/ollamaStandIn.js";
import { freshDataDir, removeDataDir } from "../../support/state.js";

/** add_document's caps, below the tools: what one token may store, checked before any embedding. */
describe("KnowledgeBase.add", () => {
  const http = createHttpClient({ connectTimeoutMs: 1_000 });
  const limits = { firstTokenMs: 10_000, idleMs: 10_000, totalMs: 10_000 };
  let ollama: OllamaStandIn;
  let dataDir: string;
  let store: StateStore;
  let knowledge: KnowledgeBase;
  const add = (owner: string, title: string, text: string) => knowledge.add({ title, section: "notes", text, owner, signal: new AbortController().signal });
  const embedCalls = () => ollama.requests.filter((r) => r.path === "/api/embed").length;

  beforeAll(async () => {
    ollama = await new OllamaStandIn().start();
    dataDir = await freshDataDir();
    store = new StateStore({ dataDir, databaseUrl: undefined, onPoolError: () => undefined });
    const embedder = new Embedder({
      ollama: new OllamaProvider({ baseUrl: ollama.baseUrl, http, limits, pullLimits: limits }),
      model: "embeddinggemma",
      dimensions: 0,
    });
    knowledge = new KnowledgeBase(new DocumentStore(store), embedder, {
      maxDocumentBytes: 100_000,
      maxBytesPerOwner: 200_000,
      maxDocumentsPerOwner: 10,
      maxChunksPerOwner: 3,
    });
  });
  afterAll(async () => {
    await store.close();
    removeDataDir(dataDir);
    await http.close();
    await ollama.stop();
  });

  it("refuses a text of more passages than one document may have, before embedding any", async () => {
    const before = embedCalls();
    await expect(add("token:a", "Tiny", "x\n# a\n".repeat(4_001))).rejects.toThrow(
      new DocsError(
        "Not added: it splits into 4001 passages (many very short sections), more than the 4000 one document may have; merge short sections or split it into several documents.",
      ),
    );
    expect(embedCalls()).toBe(before);
  });

  it("counts each token's passages, and refuses what would pass its share, before embedding", async () => {
    expect(await add("token:a", "Two", "# One\n\nfirst\n\n# Two\n\nsecond")).toMatchObject({ chunks: 2 });
    const before = embedCalls();
    await expect(add("token:a", "More", "# Three\n\nthird\n\n# Four\n\nfourth")).rejects.toThrow(
      "Your documents would have 4 passages; each token may add at most 3. Remove or merge documents you added (the same title and section replace one). Nothing was added.",
    );
    expect(embedCalls()).toBe(before);
    // Another token has its own share; replacing a document counts its new passages only.
    expect(await add("token:b", "More", "# Three\n\nthird\n\n# Four\n\nfourth")).toMatchObject({ chunks: 2 });
    expect(await add("token:a", "Two", "# One\n\nfirst\n\n# Two\n\nsecond\n\n# Three\n\nthird")).toMatchObject({ chunks: 3 });
  });

  it("completes no section or title from a prefix with a NUL (the store could not take it)", async () => {
    expect(await knowledge.complete("token:a", "no\u0000")).toEqual([]);
  });
});
