import { type Queryable, StateError } from "./db.js";

/** An embedding space: one model at one vector length. Vectors of two spaces are never compared. */
export type Space = { id: number; model: string; dimensions: number };

/** pgvector's HNSW index takes vectors of at most 2,000 dimensions; longer ones would only be scanned. */
export const MAX_DIMENSIONS = 2_000;

/** Integers travel into the store, not decimals (see `vectorParam`); 2^23 keeps them exact in float32. */
const SCALE = 8_388_608;

/**
 * A vector as an SQL parameter (`$n::int[]`): scaled to length 1, then to integers. PGlite's float
 * parser (WebAssembly, software long double) takes ~2.5 µs a number and its integer parser a
 * twentieth of that, which makes storing 768-dimension vectors ~13 times faster; cosine distance
 * does not change with a vector's length, and 2^23 steps keep float32's precision.
 */
export function vectorParam(vector: readonly number[]): string {
  const norm = Math.hypot(...vector) || 1;
  return `{${vector.map((value) => Math.round((value / norm) * SCALE)).join(",")}}`;
}

/**
 * How a space's vectors are indexed. HNSW with cosine distance needs one fixed dimension, and a
 * model change must never mix two models' vectors in one search. So every vector lives in
 * `document_vectors.embedding` (real[], any length, plain SQL that migrates on any PostgreSQL), and
 * each space gets its own partial expression index: `(embedding::vector(D))` for the rows
 * `where space_id = N`, both numbers inlined (a partial index matches constants only). A search
 * names the same expression and predicate, so it can only ever reach that one space's vectors.
 */
export function vectorExpression(space: Space): string {
  return `(embedding::vector(${safeInt(space.dimensions)}))`;
}

export function spacePredicate(space: Space): string {
  return `space_id = ${safeInt(space.id)}`;
}

function indexName(space: Space): string {
  return `document_vectors_hnsw_${safeInt(space.id)}`;
}

function safeInt(value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`not a positive integer: ${value}`);
  return value;
}

/**
 * Makes sure pgvector is there: already installed, or installed now. A server without it (Debian's
 * PostgreSQL, many managed plans) gets a message that names the extension and how to get it; the
 * rest of the store keeps working.
 */
export async function ensureVectorExtension(db: Queryable, where: string): Promise<void> {
  const state = async () =>
    (
      await db.query<{ installed: boolean; available: boolean }>(
        "select exists (select 1 from pg_extension where extname = 'vector') as installed, exists (select 1 from pg_available_extensions where name = 'vector') as available",
      )
    )[0]!;
  const before = await state();
  if (before.installed) return;
  if (!before.available) {
    throw new StateError(
      `${where} has no \`vector\` extension (pgvector), which document search needs. Use a PostgreSQL that ships it: the image pgvector/pgvector:0.8.1-pg17 (docker-compose.yml's postgres profile), or a managed plan with pgvector (Fly Managed Postgres, Railway's pgvector template, Neon, Supabase). Conversations and every other tool keep working meanwhile.`,
    );
  }
  try {
    await db.exec("create extension if not exists vector");
  } catch (error) {
    if ((await state()).installed) return; // another process created it at the same moment
    const reason = error instanceof Error ? error.message : String(error);
    throw new StateError(
      `${where} has pgvector, but this database user could not enable it (${reason}). Run \`create extension vector;\` once as the database's owner or a superuser.`,
    );
  }
}

/** Builds a space's HNSW index if it is not there (once per space; later writes keep it up to date). */
export async function ensureVectorIndex(db: Queryable, space: Space): Promise<void> {
  if (space.dimensions > MAX_DIMENSIONS) return;
  await db.exec(
    `create index if not exists ${indexName(space)} on document_vectors using hnsw (${vectorExpression(space)} vector_cosine_ops) where ${spacePredicate(space)}`,
  );
}

/** Before a bulk load: a graph built once over every row is several times cheaper than one grown row by row. */
export async function dropVectorIndex(db: Queryable, space: Space): Promise<void> {
  await db.exec(`drop index if exists ${indexName(space)}`);
}
