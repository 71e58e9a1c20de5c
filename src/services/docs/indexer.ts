import { createHash } from "node:crypto";
import { basename, dirname, relative, sep } from "node:path";
import { dropVectorIndex, ensureVectorExtension, ensureVectorIndex, type Space } from "../../state/documentIndex.js";
import { type DocumentStore, SHARED, type StoredDocument } from "../../state/documents.js";
import { CHUNKER_VERSION, chunkDocument, type Format, formatOf, tooManyChunks } from "./chunker.js";
import type { Embedder } from "./embedder.js";
import { type FoundFile, findFiles, readText } from "./files.js";

export type IndexOptions = { paths: string[]; section?: string; prune: boolean; maxDocumentBytes: number; maxFiles: number; signal: AbortSignal };

export type IndexEvent =
  | { type: "plan"; files: number; reembed: number }
  | { type: "file"; shown: string; status: "indexed" | "unchanged" | "re-embedded"; chunks: number }
  | { type: "note"; message: string }
  | { type: "progress"; done: number; total: number; chunks: number; current: string };

export type IndexSummary = {
  model: string;
  dimensions: number;
  files: number;
  indexed: number;
  unchanged: number;
  reembedded: number;
  skipped: number;
  removed: number;
  chunks: number;
  tokens: number;
  ms: number;
};

/** Documents re-embedded per page after a model change (each page read from the store). */
const REEMBED_PAGE = 50;

/** Text added through add_document is read as Markdown; a file by its extension. */
export function formatOfSource(source: string): Format {
  return source.startsWith(ADDED_PREFIX) ? "markdown" : formatOf(source);
}

/** The source of a document added through add_document: its section and title (adding it again replaces it). */
export const ADDED_PREFIX = "added:";

/** The hash that decides whether a file must be embedded again: its text, where it files, and how it is split. */
export function contentHash(text: string, section: string): string {
  return createHash("sha256").update(`${CHUNKER_VERSION}\n${section}\n${text}`).digest("hex");
}

/**
 * `pnpm index`: files into the document store, incrementally. A file whose text (by hash) is
 * unchanged is not embedded again; a changed one is embedded whole, then replaced in one
 * transaction; with `prune`, documents of named folders whose files are gone are removed. When
 * EMBED_MODEL (or its vector length) differs from the documents', they are all embedded again into
 * the new space and the old one is dropped: a search never compares two models' vectors. The first
 * failure stops the run; what was written before it stays, and each file is whole or as it was.
 */
export class Indexer {
  private readonly summary: IndexSummary;
  private readonly started = performance.now();
  /** Files done and to do, for progress. */
  private done = 0;
  private total = 0;

  constructor(
    private readonly docs: DocumentStore,
    private readonly embedder: Embedder,
    private readonly onEvent: (event: IndexEvent) => void,
  ) {
    this.summary = {
      model: embedder.model,
      dimensions: 0,
      files: 0,
      indexed: 0,
      unchanged: 0,
      reembedded: 0,
      skipped: 0,
      removed: 0,
      chunks: 0,
      tokens: 0,
      ms: 0,
    };
  }

  /** Runs to the end, or to the first failure, which is thrown with what was done so far in `summary`. */
  async run(options: IndexOptions): Promise<IndexSummary> {
    const { signal } = options;
    await this.docs.store.use((db) => ensureVectorExtension(db, this.docs.store.where));
    const dimensions = await this.embedder.dimensions(signal);
    this.summary.dimensions = dimensions;
    const space = await this.docs.space(this.embedder.model, dimensions);
    const spaces = await this.docs.spaces();
    const older = spaces.filter((s) => s.id !== space.id);
    const found = await findFiles(options.paths, { section: options.section, maxFiles: options.maxFiles });
    for (const message of found.notes) this.onEvent({ type: "note", message });
    let reembed = 0;
    for (const s of older) {
      const documents = await this.docs.documentsIn(s);
      reembed += documents;
      this.onEvent({
        type: "note",
        message: `EMBED_MODEL is ${space.model} (${dimensions} dimensions), but ${documents} document(s) were embedded with ${s.model} (${s.dimensions} dimensions): embedding them again. Searches meanwhile see only the documents already done, never a mix.`,
      });
    }
    this.onEvent({ type: "plan", files: found.files.length, reembed });
    this.total = found.files.length + reembed;
    // A space with nothing in it yet is loaded in bulk: its graph is built once at the end, several times faster than row by row.
    if (!spaces.some((s) => s.id === space.id)) await this.docs.store.use((db) => dropVectorIndex(db, space));
    let failed = false;
    try {
      if (reembed > 0) await this.reembedAll(space, signal);
      for (const file of found.files) {
        signal.throwIfAborted();
        this.tick(file.shown);
        await this.indexFile(file, space, options);
        this.done++;
      }
      this.tick("");
      if (options.prune) await this.prune(found.roots, found.files);
      for (const gone of await this.docs.dropUnusedSpaces()) await this.docs.store.use((db) => dropVectorIndex(db, gone));
      if (this.summary.indexed + this.summary.reembedded + this.summary.removed > 0) await this.docs.analyze();
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      this.summary.ms = Math.round(performance.now() - this.started);
      // Whatever happened, the space's index is there afterwards (a no-op when it already was); its failure never hides the first one.
      await this.docs.store
        .use((db) => ensureVectorIndex(db, space))
        .catch((error: unknown) => {
          if (!failed) throw error;
        });
    }
    return { ...this.summary };
  }

  /** What was done so far: after a failure, what the run did before it. */
  get progress(): IndexSummary {
    return { ...this.summary, ms: Math.round(performance.now() - this.started) };
  }

  private tick(current: string, embedded = 0): void {
    this.onEvent({ type: "progress", done: this.done, total: this.total, chunks: this.summary.chunks + embedded, current });
  }

  private async indexFile(file: FoundFile, space: Space, options: IndexOptions): Promise<void> {
    this.summary.files++;
    const read = await readText(file.path, options.maxDocumentBytes);
    if ("skipped" in read) {
      this.summary.skipped++;
      this.onEvent({ type: "note", message: `skipped ${file.shown}: ${read.skipped}` });
      return;
    }
    const hash = contentHash(read.text, file.section);
    const stored = await this.docs.find(SHARED, file.path);
    if (stored && stored.contentHash === hash && (stored.spaceId === space.id || stored.spaceId === null)) {
      this.summary.unchanged++;
      this.onEvent({ type: "file", shown: file.shown, status: "unchanged", chunks: 0 });
      return;
    }
    const split = chunkDocument(read.text, formatOfSource(file.path), basename(file.path));
    const refused = tooManyChunks(split.chunks.length);
    if (refused) {
      this.summary.skipped++;
      this.onEvent({ type: "note", message: `skipped ${file.shown}: ${refused}` });
      return;
    }
    const chunks = await this.write(
      { source: file.path, section: file.section, content: read.text, hash, fallbackTitle: basename(file.path) },
      space,
      options.signal,
      { split },
    );
    this.summary.indexed++;
    this.onEvent({ type: "file", shown: file.shown, status: "indexed", chunks });
  }

  private async reembedAll(space: Space, signal: AbortSignal): Promise<void> {
    for (let page = await this.docs.outsideSpace(space, REEMBED_PAGE); page.length > 0; page = await this.docs.outsideSpace(space, REEMBED_PAGE)) {
      for (const document of page) {
        signal.throwIfAborted();
        this.tick(document.title);
        const chunks = await this.rewrite(document, space, signal);
        this.summary.reembedded++;
        this.done++;
        this.onEvent({ type: "file", shown: document.source, status: "re-embedded", chunks });
      }
    }
  }

  private rewrite(document: StoredDocument, space: Space, signal: AbortSignal): Promise<number> {
    const source = {
      source: document.source,
      section: document.section,
      content: document.content,
      hash: contentHash(document.content, document.section),
      fallbackTitle: document.title,
    };
    return this.write(source, space, signal, { owner: document.owner, title: document.title });
  }

  /** Splits, embeds every chunk, then replaces the stored document in one transaction. */
  private async write(
    doc: { source: string; section: string; content: string; hash: string; fallbackTitle: string },
    space: Space,
    signal: AbortSignal,
    {
      owner = SHARED,
      title,
      split = chunkDocument(doc.content, formatOfSource(doc.source), title ?? doc.fallbackTitle, { titled: title !== undefined }),
    }: {
      owner?: string;
      title?: string;
      split?: ReturnType<typeof chunkDocument>;
    } = {},
  ): Promise<number> {
    const documentTitle = title ?? split.title;
    const { vectors, tokens } = await this.embedder.embedDocuments(
      split.chunks.map((chunk) => ({ title: documentTitle, ...chunk })),
      signal,
      owner || "indexer",
      (embedded) => this.tick(doc.fallbackTitle, embedded),
    );
    signal.throwIfAborted();
    const chunks = split.chunks.map((chunk, i) => ({ ...chunk, embedding: vectors[i]! }));
    await this.docs.replace(
      { owner, source: doc.source, section: doc.section, title: documentTitle, content: doc.content, contentHash: doc.hash },
      chunks,
      space,
    );
    this.summary.chunks += chunks.length;
    this.summary.tokens += tokens;
    return chunks.length;
  }

  private async prune(roots: Array<{ path: string }>, files: FoundFile[]): Promise<void> {
    const keep = new Set(files.map((file) => file.path));
    for (const root of roots) {
      for (const source of await this.docs.prune(root.path + sep, keep)) {
        this.summary.removed++;
        this.onEvent({ type: "note", message: `removed ${relative(dirname(root.path), source).split(sep).join("/")}: the file is gone` });
      }
    }
  }
}
