import { type Space, spacePredicate, vectorExpression, vectorParam } from "./documentIndex.js";
import { SHARED } from "./documents.js";
import type { StateStore } from "./store.js";

export type SearchMode = "hybrid" | "vector" | "keyword";

export type SearchRequest = {
  space: Space;
  /** The query's embedding, in `space`; needed unless `mode` is keyword. */
  vector?: readonly number[];
  text: string;
  owner: string;
  section?: string;
  topN: number;
  mode: SearchMode;
};

export type SearchHit = {
  documentId: string;
  ord: number;
  title: string;
  source: string;
  section: string;
  heading: string;
  body: string;
  /** Reciprocal-rank fusion of the two rankings (or the one used). */
  score: number;
  /** Cosine similarity to the query (1 = same direction); null when only the keywords found it. */
  similarity: number | null;
  /** Rank among the keyword matches (1 = best); null when the words did not match. */
  keywordRank: number | null;
};

/** Candidates each ranking contributes before they are fused. */
export const CANDIDATES = 50;
/** The constant of reciprocal-rank fusion: 1 / (60 + rank), as in Cormack et al. */
const RRF_K = 60;

/**
 * Words too common to tell passages apart are left out of the keyword half, by the planner's
 * statistics of `tsv` (from ANALYZE): a lexeme in a fifth of all chunks (and at least 20 of them:
 * in a handful of documents every word is rare) is no better than a stop word (leaving them out
 * raised hybrid recall@5 from 0.84 to 0.94 in `pnpm eval:search`), and a lexeme in 1,000 chunks or
 * more costs too much to rank (what made keyword search slow at 100,000 chunks). The meaning half
 * still weighs every word.
 */
export const COMMON_SHARE = 0.2;
export const COMMON_ROWS = 1_000;
const SHARE_FLOOR_ROWS = 20;

/** Lexemes the keyword half takes from one query, the rarest first: a long query cannot make it scan everything. */
export const MAX_QUERY_LEXEMES = 16;

/**
 * The query's distinctive words as an OR of lexemes (any may match; more rank higher), each
 * quoted as tsquery wants, so punctuation in the query is never syntax. No such words: no match.
 */
const QUERY_SQL = `(select string_agg(quoted, ' | ')::tsquery from (
    select '''' || replace(replace(t.lexeme, '\\', '\\\\'), '''', '''''') || '''' as quoted
    from unnest(to_tsvector('english', $TEXT)) t
    left join (
      select m.lexeme, m.share, m.share * greatest((select reltuples from pg_class where oid = to_regclass('document_chunks')), 0) as chunks
      from pg_stats s, unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) as m (lexeme, share)
      where s.schemaname = current_schema() and s.tablename = 'document_chunks' and s.attname = 'tsv'
    ) common on common.lexeme = t.lexeme
    where not (coalesce(common.chunks, 0) >= ${COMMON_ROWS} or (coalesce(common.share, 0) >= ${COMMON_SHARE} and coalesce(common.chunks, 0) >= ${SHARE_FLOOR_ROWS}))
    order by coalesce(common.chunks, 0), t.lexeme limit ${MAX_QUERY_LEXEMES}) distinctive)`;

/**
 * Hybrid search in one statement: the nearest chunks by cosine distance (the space's HNSW index:
 * only that model's vectors) and the best keyword matches (the GIN index on tsv, no vectors
 * involved), each ranked, fused by reciprocal rank. Both halves see only what the caller may read,
 * in the section if one is named.
 */
export async function searchChunks(store: StateStore, request: SearchRequest): Promise<SearchHit[]> {
  const { space, mode } = request;
  const params: unknown[] = [];
  const param = (value: unknown) => `$${params.push(value)}`;
  const section = param(request.section ?? null);
  const filter = `owner in (${param(SHARED)}, ${param(request.owner)}) and (${section}::text is null or lower(section) = lower(${section}))`;
  const candidates = param(CANDIDATES);
  const parts: string[] = [];
  if (mode !== "keyword") {
    if (!request.vector) throw new Error("a vector search needs the query's vector");
    const distance = `${vectorExpression(space)} <=> ${param(vectorParam(request.vector))}::int[]::vector(${space.dimensions})`;
    parts.push(`vec as materialized (
      select document_id, ord, d, row_number() over (order by d, document_id, ord) as rank from (
        select document_id, ord, ${distance} as d from document_vectors where ${spacePredicate(space)} and ${filter} order by ${distance} limit ${candidates}) nearest)`);
  }
  if (mode !== "vector") {
    // The tsquery is made once (a CTE of its own), not once for the match and again for the rank.
    parts.push(`kwq as materialized (select ${QUERY_SQL.replace("$TEXT", `${param(request.text)}::text`)} as query)`);
    parts.push(`kw as materialized (
      select document_id, ord, r, row_number() over (order by r desc, document_id, ord) as rank from (
        select document_id, ord, ts_rank_cd(tsv, kwq.query) as r from document_chunks, kwq
        where ${filter} and tsv @@ kwq.query order by r desc limit ${candidates}) matched)`);
  }
  const fused =
    mode === "hybrid"
      ? `select coalesce(vec.document_id, kw.document_id) as document_id, coalesce(vec.ord, kw.ord) as ord,
           coalesce(1.0 / (${RRF_K} + vec.rank), 0) + coalesce(1.0 / (${RRF_K} + kw.rank), 0) as score, vec.d, kw.rank as kw_rank
         from vec full join kw on vec.document_id = kw.document_id and vec.ord = kw.ord`
      : mode === "vector"
        ? `select document_id, ord, 1.0 / (${RRF_K} + rank) as score, d, null::bigint as kw_rank from vec`
        : `select document_id, ord, 1.0 / (${RRF_K} + rank) as score, null::float8 as d, rank as kw_rank from kw`;
  const sql = `with ${parts.join(", ")}, fused as (${fused})
    select f.document_id as "documentId", f.ord, d.title, d.source, c.section, c.heading, c.body, f.score::float8 as score,
      (1 - f.d)::float8 as similarity, f.kw_rank::integer as "keywordRank"
    from fused f join document_chunks c on c.document_id = f.document_id and c.ord = f.ord join documents d on d.id = f.document_id
    order by f.score desc, f.d nulls last, f.document_id, f.ord limit ${param(request.topN)}`;
  return store.use((db) =>
    db.transaction(async (tx) => {
      if (mode !== "keyword") {
        // Enough graph neighbours for every candidate, and a scan that goes on past rows the filter
        // drops (pgvector 0.8). The planner does not know what casting every row's vector costs, so
        // at some sizes it thought a full scan and a sort cheaper than the index (measured: 400 ms
        // against 10 at 10,000 chunks); only the index gives the rows in order without a sort.
        await tx.exec(`set local hnsw.ef_search = ${CANDIDATES * 2}; set local hnsw.iterative_scan = relaxed_order; set local enable_sort = off`);
      }
      return tx.query<SearchHit>(sql, params);
    }),
  );
}
