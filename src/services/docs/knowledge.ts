import { hasControlCharacters } from "../../controlCharacters.js";
import { LlmError } from "../../llm/errors.js";
import { sameOllamaModel } from "../../llm/providers/ollama.js";
import type { Queryable } from "../../state/db.js";
import { ensureVectorExtension, ensureVectorIndex } from "../../state/documentIndex.js";
import { type SearchHit, type SearchMode, searchChunks } from "../../state/documentSearch.js";
import { type DocumentInfo, DocumentStore, type SectionSummary, type StoredDocument } from "../../state/documents.js";
import { chunkDocument, tooManyChunks } from "./chunker.js";
import type { Embedder } from "./embedder.js";
import { ADDED_PREFIX, contentHash } from "./indexer.js";

/** A request the caller can fix (an unknown section, a document over a cap); the message says how. */
export class DocsError extends Error {
  override readonly name = "DocsError";
}

export type KnowledgeLimits = { maxDocumentBytes: number; maxBytesPerOwner: number; maxDocumentsPerOwner: number; maxChunksPerOwner: number };

export type SearchResult = { hits: SearchHit[]; mode: SearchMode; notes: string[]; tokens: number };

/** Lock namespace of add_document's per-owner quota check (pg_advisory_xact_lock(int, int)). */
const QUOTA_LOCK = 42_015;

/**
 * The documents as the tools see them: search (hybrid, or keywords alone when the query cannot be
 * embedded, with a note that says why), whole documents, sections, and adding one. Every read is
 * the caller's view: the shared documents and its own.
 */
export class KnowledgeBase {
  private vectorsReady: Promise<void> | undefined;

  constructor(
    readonly docs: DocumentStore,
    private readonly embedder: Embedder,
    private readonly limits: KnowledgeLimits,
  ) {}

  get embedModel(): string {
    return this.embedder.model;
  }

  async search(request: { query: string; topN: number; section?: string; owner: string; signal: AbortSignal }): Promise<SearchResult> {
    await this.vectorSupport();
    const section = request.section === undefined ? undefined : await this.knownSection(request.section, request.owner);
    const all = await this.docs.spaces();
    if (all.length === 0) throw await this.noSpace();
    const spaces = all.filter((s) => sameOllamaModel(s.model, this.embedder.model));
    const notes: string[] = [];
    let vector: number[] | undefined;
    let tokens = 0;
    try {
      ({ vector, tokens } = await this.embedder.embedQuery(request.query, request.signal, request.owner));
    } catch (error) {
      if (!(error instanceof LlmError) || error.kind === "cancelled" || error.kind === "queue_full") throw error;
      notes.push(`Keyword matches only: the question could not be embedded for semantic search. ${error.message}`);
    }
    // Keywords compare no vectors, so without one any space's chunks will do; a vector only meets its own space.
    const space = vector ? spaces.find((s) => s.dimensions === vector.length) : (spaces[0] ?? all[0]);
    if (!space) throw await this.noSpace();
    for (const other of all.filter((s) => s.id !== space.id)) {
      notes.push(
        `${await this.docs.documentsIn(other, request.owner)} document(s) embedded with ${other.model} (${other.dimensions} dimensions) are not searched until \`pnpm index\` embeds them with ${this.embedder.model}.`,
      );
    }
    const mode: SearchMode = vector ? "hybrid" : "keyword";
    const hits = await searchChunks(this.docs.store, { space, vector, text: request.query, owner: request.owner, section, topN: request.topN, mode });
    return { hits, mode, notes, tokens };
  }

  get(id: string, owner: string): Promise<StoredDocument | undefined> {
    return this.docs.get(id, owner);
  }

  sections(owner: string): Promise<SectionSummary[]> {
    return this.docs.sections(owner);
  }

  list(owner: string, offset: number, limit: number, section?: string): Promise<DocumentInfo[]> {
    return this.docs.list(owner, offset, limit, section);
  }

  complete(owner: string, typed: string): Promise<string[]> {
    const prefix = typed.slice(0, 200);
    return hasControlCharacters(prefix) ? Promise.resolve([]) : this.docs.complete(owner, prefix, 100);
  }

  /** A section name as stored (matched without regard to case), or a DocsError listing the caller's sections. */
  async knownSection(name: string, owner: string): Promise<string> {
    const sections = await this.docs.sections(owner);
    const found = sections.find((s) => s.section.toLowerCase() === name.toLowerCase());
    if (found) return found.section;
    const known = sections.slice(0, 30).map((s) => s.section);
    throw new DocsError(
      known.length === 0
        ? `There is no section '${name}': no documents are indexed yet.`
        : `There is no section '${name}'. Sections: ${known.join(", ")}${sections.length > known.length ? ", …" : ""} (list_sections shows them all).`,
    );
  }

  /**
   * add_document: the text split and embedded, then stored for this caller in one transaction,
   * within DOCS_MAX_DOCUMENT_BYTES and the caller's DOCS_MAX_BYTES_PER_TOKEN (checked before the
   * embedding, and again under a per-caller lock as it is written). The same title in the same
   * section replaces the earlier text.
   */
  async add(request: {
    title: string;
    section: string;
    text: string;
    owner: string;
    signal: AbortSignal;
  }): Promise<{ id: string; chunks: number; tokens: number }> {
    const bytes = Buffer.byteLength(request.text);
    if (bytes > this.limits.maxDocumentBytes)
      throw new DocsError(
        `The text has ${bytes} bytes; a document may have at most ${this.limits.maxDocumentBytes} (DOCS_MAX_DOCUMENT_BYTES). Split it into several documents.`,
      );
    const split = chunkDocument(request.text, "markdown", request.title, { titled: true });
    const refused = tooManyChunks(split.chunks.length);
    if (refused) throw new DocsError(`Not added: ${refused}.`);
    await this.vectorSupport();
    const source = `${ADDED_PREFIX}${request.section}/${request.title}`;
    const quota = (tx: Queryable) => this.checkQuota(tx, request.owner, source, { bytes, chunks: split.chunks.length });
    // Checked before the embedding too, so a refused text costs no model time.
    const early = await this.docs.store.use((db) =>
      quota(db).then(
        () => undefined,
        (error: unknown) => error,
      ),
    );
    if (early) throw early;
    const { vectors, tokens } = await this.embedder.embedDocuments(
      split.chunks.map((chunk) => ({ title: request.title, ...chunk })),
      request.signal,
      request.owner,
    );
    const space = await this.docs.space(this.embedder.model, await this.embedder.dimensions(request.signal, request.owner));
    await this.docs.store.use((db) => ensureVectorIndex(db, space));
    const chunks = split.chunks.map((chunk, i) => ({ ...chunk, embedding: vectors[i]! }));
    const document = {
      owner: request.owner,
      source,
      section: request.section,
      title: request.title,
      content: request.text,
      contentHash: contentHash(request.text, request.section),
    };
    const id = await this.docs.replace(document, chunks, space, async (tx) => {
      await tx.query("select pg_advisory_xact_lock($1, hashtext($2))", [QUOTA_LOCK, request.owner]);
      await quota(tx);
    });
    return { id, chunks: chunks.length, tokens };
  }

  private async checkQuota(tx: Queryable, owner: string, source: string, { bytes, chunks }: { bytes: number; chunks: number }): Promise<void> {
    const usage = await DocumentStore.usage(tx, owner, source);
    if (usage.bytes + bytes > this.limits.maxBytesPerOwner) {
      throw new DocsError(
        `Your documents would hold ${usage.bytes + bytes} bytes; each token may add at most ${this.limits.maxBytesPerOwner} (DOCS_MAX_BYTES_PER_TOKEN). Nothing was added.`,
      );
    }
    if (usage.chunks + chunks > this.limits.maxChunksPerOwner) {
      throw new DocsError(
        `Your documents would have ${usage.chunks + chunks} passages; each token may add at most ${this.limits.maxChunksPerOwner}. Remove or merge documents you added (the same title and section replace one). Nothing was added.`,
      );
    }
    if (usage.documents + 1 > this.limits.maxDocumentsPerOwner) {
      throw new DocsError(
        `You have added ${usage.documents} documents, the most one token may add (${this.limits.maxDocumentsPerOwner}). Add to an existing title (the same title and section replace it). Nothing was added.`,
      );
    }
  }

  /** pgvector, checked once per process (a failure is not remembered: a fixed database works without a restart). */
  private vectorSupport(): Promise<void> {
    this.vectorsReady ??= this.docs.store
      .use((db) => ensureVectorExtension(db, this.docs.store.where))
      .catch((error: unknown) => {
        this.vectorsReady = undefined;
        throw error;
      });
    return this.vectorsReady;
  }

  private async noSpace(): Promise<DocsError> {
    const spaces = await this.docs.spaces();
    if (spaces.length === 0)
      return new DocsError(
        "No documents are indexed yet. Index a folder with `pnpm index <folder>` (in the image: `node dist/cli/index.js <folder>`), or add one with add_document.",
      );
    const list = spaces.map((s) => `${s.model} (${s.dimensions} dimensions)`).join(", ");
    return new DocsError(
      `The documents were embedded with ${list}, but this server embeds questions with EMBED_MODEL=${this.embedder.model}. Set EMBED_MODEL (and EMBED_DIMENSIONS) on the server to match, or run \`pnpm index\` with EMBED_MODEL=${this.embedder.model} to embed them again.`,
    );
  }
}
