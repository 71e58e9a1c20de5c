import { type Db, StateError } from "./db.js";

export type Migration = { version: number; name: string; sql: string };

/**
 * The schema, as versioned SQL. A feature adds a migration at the end; a version is never edited
 * once released. The same SQL runs on PGlite and on a PostgreSQL server.
 */
export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: "conversations",
    sql: `
      create table conversations (
        id uuid primary key,
        owner text not null,
        turns jsonb not null,
        dropped integer not null default 0,
        bytes integer not null,
        updated_at timestamptz not null,
        expires_at timestamptz not null
      );
      create index conversations_owner_updated on conversations (owner, updated_at);
      create index conversations_expires on conversations (expires_at);
    `,
  },
  {
    version: 3,
    name: "documents",
    // Plain SQL on purpose: a PostgreSQL server without pgvector still migrates, and everything but
    // document search keeps working there. Vectors are real[] (exported and imported like any
    // column); the vector index is built later, per embedding space (state/documentIndex.ts), once
    // the `vector` extension is there. Text and vectors live in two tables: the keyword search
    // reads narrow rows of text (a 768-dimension vector is 3 KB), and the vector search reads
    // vectors kept in their row (`storage main`: no TOAST lookup per row), both measured faster.
    // Owner and section are copied onto each row, so both searches filter without a join.
    sql: `
      create table embedding_spaces (
        id serial primary key,
        model text not null,
        dimensions integer not null,
        created_at timestamptz not null default now(),
        unique (model, dimensions)
      );
      create table documents (
        id uuid primary key,
        owner text not null,
        source text not null,
        section text not null,
        title text not null,
        content text not null,
        content_hash text not null,
        bytes integer not null,
        chunks integer not null,
        updated_at timestamptz not null,
        unique (owner, source)
      );
      create index documents_owner_section on documents (owner, section, title);
      create table document_chunks (
        document_id uuid not null references documents (id) on delete cascade,
        ord integer not null,
        owner text not null,
        section text not null,
        heading text not null,
        body text not null,
        tsv tsvector not null,
        primary key (document_id, ord)
      );
      create index document_chunks_tsv on document_chunks using gin (tsv);
      create table document_vectors (
        document_id uuid not null,
        ord integer not null,
        space_id integer not null references embedding_spaces (id),
        owner text not null,
        section text not null,
        embedding real[] not null,
        primary key (document_id, ord),
        foreign key (document_id, ord) references document_chunks (document_id, ord) on delete cascade
      );
      alter table document_vectors alter column embedding set storage main;
      create index document_vectors_space on document_vectors (space_id);
    `,
  },
];

/** Any 64-bit number: the advisory lock that lets one replica at a time migrate. */
const MIGRATION_LOCK = 7_245_311_004;

/**
 * Brings the schema up to date, idempotently: under an advisory lock (replicas starting at once
 * take turns; the second finds the work done), each missing version in its own order, in one
 * transaction. A database whose schema is newer than this code is refused, not touched.
 */
export async function migrate(db: Db, migrations: Migration[] = MIGRATIONS): Promise<{ from: number; to: number }> {
  const latest = migrations.at(-1)?.version ?? 0;
  return db.transaction(async (tx) => {
    await tx.query("select pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    await tx.exec("create table if not exists schema_migrations (version integer primary key, name text not null, applied_at timestamptz not null default now())");
    const [row] = await tx.query<{ version: number | null }>("select max(version)::integer as version from schema_migrations");
    const from = row?.version ?? 0;
    if (from > latest) {
      throw new StateError(`${db.where} has schema version ${from}, newer than this server's ${latest}: it was written by a newer mcp-lab. Upgrade this server, or point it at another database. Nothing was changed.`);
    }
    for (const migration of migrations.filter((m) => m.version > from)) {
      await tx.exec(migration.sql);
      await tx.query("insert into schema_migrations (version, name) values ($1, $2)", [migration.version, migration.name]);
    }
    return { from, to: latest };
  });
}
