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
