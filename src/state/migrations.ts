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
    version: 2,
    name: "jobs",
    sql: `
      create table jobs (
        id uuid primary key,
        owner text not null,
        tool text not null,
        model text not null,
        state text not null,
        progress text not null default '',
        steps integer not null default 0,
        result json,
        failure json,
        runner text not null,
        heartbeat_at timestamptz not null,
        cancel_requested boolean not null default false,
        created_at timestamptz not null,
        finished_at timestamptz,
        expires_at timestamptz
      );
      create index jobs_owner_created on jobs (owner, created_at);
      create index jobs_running on jobs (runner) where state = 'running';
      create index jobs_expires on jobs (expires_at);
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
  {
    version: 4,
    name: "connector (OAuth)",
    // What the embedded authorization server keeps (oidc-provider's models): clients, grants,
    // codes, tokens, interactions, sessions. `id_hash` is the SHA-256 of the model's id: for codes
    // and tokens the id is the credential itself, so it is never stored. The owner's approvals and
    // the server's own keys (signing key, cookie and form keys) sit beside them.
    sql: `
      create table oauth_records (
        kind text not null,
        id_hash text not null,
        payload jsonb not null,
        client_id text,
        grant_id text,
        session_uid text,
        expires_at timestamptz,
        consumed_at timestamptz,
        created_at timestamptz not null,
        primary key (kind, id_hash)
      );
      create index oauth_records_grant on oauth_records (grant_id);
      create index oauth_records_client on oauth_records (client_id);
      create index oauth_records_session_uid on oauth_records (session_uid);
      create index oauth_records_expires on oauth_records (expires_at);
      create index oauth_records_kind_created on oauth_records (kind, created_at);
      create table oauth_approvals (
        client_id text primary key,
        client_name text not null,
        redirect_uris jsonb not null,
        via text not null,
        first_approved_at timestamptz not null,
        last_approved_at timestamptz not null
      );
      create table oauth_keys (
        name text primary key,
        value text not null,
        created_at timestamptz not null
      );
    `,
  },
  {
    version: 5,
    name: "token_usage",
    sql: `
      create table token_usage (
        day date not null,
        owner text not null,
        model text not null,
        requests bigint not null default 0,
        input_tokens bigint not null default 0,
        output_tokens bigint not null default 0,
        primary key (day, owner, model)
      );
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
    await tx.exec(
      "create table if not exists schema_migrations (version integer primary key, name text not null, applied_at timestamptz not null default now())",
    );
    const applied = new Set((await tx.query<{ version: number }>("select version from schema_migrations")).map((row) => row.version));
    const from = Math.max(0, ...applied);
    if (from > latest) {
      throw new StateError(
        `${db.where} has schema version ${from}, newer than this server's ${latest}: it was written by a newer mcp-lab. Upgrade this server, or point it at another database. Nothing was changed.`,
      );
    }
    // Each version not applied yet, in order (not only those above the highest: a version added
    // between two that were applied elsewhere is still applied).
    for (const migration of migrations.filter((m) => !applied.has(m.version))) {
      await tx.exec(migration.sql);
      await tx.query("insert into schema_migrations (version, name) values ($1, $2)", [migration.version, migration.name]);
    }
    return { from, to: latest };
  });
}
