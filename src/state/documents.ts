import { randomUUID } from "node:crypto";
import type { Queryable } from "./db.js";
import { type Space, vectorParam } from "./documentIndex.js";
import type { StateStore } from "./store.js";

/** Documents that `pnpm index` wrote belong to no caller: every caller reads them. */
export const SHARED = "";

export type DocumentInfo = { id: string; owner: string; source: string; section: string; title: string; bytes: number; chunks: number; updatedAt: Date };

export type StoredDocument = DocumentInfo & { content: string };

export type NewDocument = { owner: string; source: string; section: string; title: string; content: string; contentHash: string };

export type NewChunk = { heading: string; body: string; embedding: readonly number[] };

export type SectionSummary = { section: string; documents: number; bytes: number };

/** Rows per insert statement: bounds one statement's parameters whatever the document's size. */
const CHUNKS_PER_STATEMENT = 256;

/**
 * The keyword half of search: title and heading weigh most (A), the text least (D). English
 * stemming, so "models" finds "model"; names such as MCP_AUTH_TOKEN are split at punctuation into
 * words that must occur close together to rank high.
 */
export const TSV_SQL = "setweight(to_tsvector('english', $TITLE || ' ' || c.heading), 'A') || setweight(to_tsvector('english', c.body), 'D')";

const INFO_COLUMNS = 'id, owner, source, section, title, bytes, chunks, updated_at as "updatedAt"';

/**
 * Documents, their chunks and vectors in the state store. A document is written whole, in one
 * transaction: replacing one either commits every chunk with its vector or leaves the old one as it
 * was. Which caller sees what is decided here: a caller sees the shared documents and its own.
 */
export class DocumentStore {
  constructor(readonly store: StateStore) {}

  /** The space for this model and vector length, made on first use. */
  space(model: string, dimensions: number): Promise<Space> {
    return this.store.use(async (db) => {
      await db.query("insert into embedding_spaces (model, dimensions) values ($1, $2) on conflict (model, dimensions) do nothing", [model, dimensions]);
      const [row] = await db.query<Space>("select id, model, dimensions from embedding_spaces where model = $1 and dimensions = $2", [model, dimensions]);
      return row!;
    });
  }

  /** Every space that holds vectors (an index probe per space, whatever the number of chunks). */
  spaces(): Promise<Space[]> {
    return this.store.use((db) =>
      db.query<Space>(
        "select id, model, dimensions from embedding_spaces s where exists (select 1 from document_vectors v where v.space_id = s.id) order by id",
      ),
    );
  }

  /** Documents with vectors in `space`: all of them, or those `owner` can see (the shared ones and its own). */
  async documentsIn(space: Space, owner?: string): Promise<number> {
    const [row] = await this.store.use((db) =>
      db.query<{ n: number }>(
        "select count(distinct document_id)::integer as n from document_vectors where space_id = $1 and ($2::text is null or owner in ($3, $2))",
        [space.id, owner ?? null, SHARED],
      ),
    );
    return row!.n;
  }

  /** Spaces no chunk uses any more (after a model change was re-embedded): their rows go. */
  async dropUnusedSpaces(): Promise<Space[]> {
    return this.store.use((db) =>
      db.query<Space>(
        "delete from embedding_spaces s where not exists (select 1 from document_vectors v where v.space_id = s.id) returning id, model, dimensions",
      ),
    );
  }

  /**
   * Refreshes the planner's statistics after a bulk change: the keyword search reads from them
   * which words are too common to tell passages apart (and PGlite runs no autovacuum to do it).
   */
  async analyze(): Promise<void> {
    await this.store.use((db) => db.exec("analyze document_chunks; analyze document_vectors"));
  }

  /** What is stored for a source: its hash and space decide whether it must be embedded again. */
  async find(owner: string, source: string): Promise<{ id: string; contentHash: string; spaceId: number | null } | undefined> {
    const rows = await this.store.use((db) =>
      db.query<{ id: string; contentHash: string; spaceId: number | null }>(
        'select d.id, d.content_hash as "contentHash", (select min(space_id) from document_vectors v where v.document_id = d.id) as "spaceId" from documents d where owner = $1 and source = $2',
        [owner, source],
      ),
    );
    return rows[0];
  }

  /**
   * Writes a document and its chunks in place of the one with the same owner and source, in one
   * transaction; `check` runs inside it first (a quota), and can refuse by throwing.
   */
  async replace(document: NewDocument, chunks: NewChunk[], space: Space, check?: (tx: Queryable) => Promise<void>): Promise<string> {
    // The check's own refusal reaches the caller as it is, not as a failure of the store.
    let refusal: unknown;
    const refuse = async (tx: Queryable) => {
      try {
        await check?.(tx);
      } catch (error) {
        refusal = error;
        throw error;
      }
    };
    return this.write(document, chunks, space, refuse).catch((error: unknown) => {
      throw refusal ?? error;
    });
  }

  private write(document: NewDocument, chunks: NewChunk[], space: Space, check: (tx: Queryable) => Promise<void>): Promise<string> {
    return this.store.use((db) =>
      db.transaction(async (tx) => {
        await check(tx);
        // A document keeps its id across replacements: links to it (search results, resources) stay good.
        const [old] = await tx.query<{ id: string }>("delete from documents where owner = $1 and source = $2 returning id", [document.owner, document.source]);
        const id = old?.id ?? randomUUID();
        await tx.query(
          "insert into documents (id, owner, source, section, title, content, content_hash, bytes, chunks, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())",
          [
            id,
            document.owner,
            document.source,
            document.section,
            document.title,
            document.content,
            document.contentHash,
            Buffer.byteLength(document.content),
            chunks.length,
          ],
        );
        for (let start = 0; start < chunks.length; start += CHUNKS_PER_STATEMENT) {
          const slice = chunks.slice(start, start + CHUNKS_PER_STATEMENT);
          const ords = slice.map((_, i) => start + i);
          await tx.query(
            `insert into document_chunks (document_id, ord, owner, section, heading, body, tsv)
             select $1, c.ord, $2, $3, c.heading, c.body, ${TSV_SQL.replace("$TITLE", "$4::text")}
             from unnest($5::int[], $6::text[], $7::text[]) as c (ord, heading, body)`,
            [id, document.owner, document.section, document.title, ords, slice.map((c) => c.heading), slice.map((c) => c.body)],
          );
          await tx.query(
            `insert into document_vectors (document_id, ord, space_id, owner, section, embedding)
             select $1, v.ord, $2, $3, $4, v.embedding::int[]::real[] from unnest($5::int[], $6::text[]) as v (ord, embedding)`,
            [id, space.id, document.owner, document.section, ords, slice.map((c) => vectorParam(c.embedding))],
          );
        }
        return id;
      }),
    );
  }

  /** Removes the shared documents under `prefix` whose source is not in `keep`; returns their sources. */
  async prune(prefix: string, keep: ReadonlySet<string>): Promise<string[]> {
    return this.store.use(async (db) => {
      const under = await db.query<{ id: string; source: string }>("select id, source from documents where owner = $1 and left(source, length($2)) = $2", [
        SHARED,
        prefix,
      ]);
      const gone = under.filter((row) => !keep.has(row.source));
      if (gone.length > 0) await db.query("delete from documents where id = any($1::uuid[])", [gone.map((row) => row.id)]);
      return gone.map((row) => row.source).sort();
    });
  }

  /** A document the caller may read, whole; another caller's is answered as if it did not exist. */
  async get(id: string, owner: string): Promise<StoredDocument | undefined> {
    const rows = await this.store.use((db) =>
      db.query<StoredDocument>(`select ${INFO_COLUMNS}, content from documents where id = $1 and owner in ($2, $3)`, [id, SHARED, owner]),
    );
    return rows[0];
  }

  /** The caller's sections (its own and the shared ones), with how many documents and bytes each. */
  sections(owner: string): Promise<SectionSummary[]> {
    return this.store.use((db) =>
      db.query<SectionSummary>(
        "select section, count(*)::integer as documents, sum(bytes)::bigint::float8 as bytes from documents where owner in ($1, $2) group by section order by lower(section), section",
        [SHARED, owner],
      ),
    );
  }

  /** The caller's documents, by section and title, a page at a time. */
  list(owner: string, offset: number, limit: number, section?: string): Promise<DocumentInfo[]> {
    return this.store.use((db) =>
      db.query<DocumentInfo>(
        `select ${INFO_COLUMNS} from documents where owner in ($1, $2) and ($3::text is null or lower(section) = lower($3)) order by lower(section), lower(title), id offset $4 limit $5`,
        [SHARED, owner, section ?? null, offset, limit],
      ),
    );
  }

  /** Ids of the caller's documents whose id starts with, or whose title contains, `typed` (for completion). */
  async complete(owner: string, typed: string, limit: number): Promise<string[]> {
    const literal = typed.replace(/[\\%_]/g, (c) => `\\${c}`);
    const rows = await this.store.use((db) =>
      db.query<{ id: string }>(
        "select id from documents where owner in ($1, $2) and (id::text like $3 || '%' or title ilike '%' || $3 || '%') order by lower(title), id limit $4",
        [SHARED, owner, literal, limit],
      ),
    );
    return rows.map((row) => row.id);
  }

  /** Documents whose vectors are not of `space` (a model change): their text, to embed again. */
  outsideSpace(space: Space, limit: number): Promise<StoredDocument[]> {
    return this.store.use((db) =>
      db.query<StoredDocument>(
        `select ${INFO_COLUMNS}, content from documents d where exists (select 1 from document_vectors v where v.document_id = d.id and v.space_id <> $1) order by id limit $2`,
        [space.id, limit],
      ),
    );
  }

  /** How much one owner holds: for add_document's quota, read inside its transaction. */
  static async usage(tx: Queryable, owner: string, excludingSource: string): Promise<{ bytes: number; documents: number; chunks: number }> {
    const [row] = await tx.query<{ bytes: number; documents: number; chunks: number }>(
      "select coalesce(sum(bytes), 0)::bigint::float8 as bytes, count(*)::integer as documents, coalesce(sum(chunks), 0)::integer as chunks from documents where owner = $1 and source <> $2",
      [owner, excludingSource],
    );
    return row!;
  }
}
