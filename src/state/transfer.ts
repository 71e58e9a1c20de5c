import type { Db } from "./db.js";

/** The app's tables (every one but the migrations' own), each after the tables its foreign keys point to, so an import never breaks one. */
export async function appTables(db: Db): Promise<string[]> {
  const rows = await db.query<{ name: string }>(
    "select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' and table_name <> 'schema_migrations' order by table_name",
  );
  const links = await db.query<{ child: string; parent: string }>(
    "select c.conrelid::regclass::text as child, c.confrelid::regclass::text as parent from pg_constraint c join pg_namespace n on n.oid = c.connamespace where c.contype = 'f' and n.nspname = 'public'",
  );
  const pending = rows.map((row) => row.name);
  const ordered: string[] = [];
  while (pending.length > 0) {
    // A table whose parents are all placed (a table pointing at itself does not wait for itself); a cycle goes in as it is.
    const next = pending.findIndex((table) =>
      links.every((link) => link.child !== table || link.parent === table || ordered.includes(link.parent) || !pending.includes(link.parent)),
    );
    ordered.push(...pending.splice(Math.max(next, 0), 1));
  }
  return ordered;
}

/**
 * Every row of every app table as JSON lines (`{"table": …, "row": {…}}`), the same on both
 * engines: a backup, or the way from the embedded store to a PostgreSQL server.
 */
export async function* exportRows(db: Db, batch = 500): AsyncGenerator<string> {
  for (const table of await appTables(db)) {
    // Pages by physical row position: any table, no key needed, each row read once.
    for (let after = "(0,0)"; ; ) {
      const rows = await db.query<{ row: unknown; at: string }>(
        `select row_to_json(t) as row, t.ctid::text as at from ${quoteIdent(table)} t where t.ctid > $1::tid order by t.ctid limit $2`,
        [after, batch],
      );
      for (const { row } of rows) yield JSON.stringify({ table, row });
      if (rows.length < batch) break;
      after = rows.at(-1)!.at;
    }
  }
}

/** Loads what `exportRows` wrote, in batches; rows whose key is already there are kept as they are. */
export async function importRows(db: Db, lines: AsyncIterable<string>, batch = 500): Promise<Record<string, number>> {
  // Iterated before anything is awaited: a readline interface that ends while we wait loses its lines.
  let known: Set<string> | undefined;
  const counts: Record<string, number> = {};
  let pending: { table: string; rows: unknown[] } | undefined;
  const flush = async () => {
    if (!pending || pending.rows.length === 0) return;
    const { table, rows } = pending;
    await db.query(`insert into ${quoteIdent(table)} select * from json_populate_recordset(null::${quoteIdent(table)}, $1::json) on conflict do nothing`, [
      JSON.stringify(rows),
    ]);
    counts[table] = (counts[table] ?? 0) + rows.length;
    pending.rows = [];
  };
  for await (const line of lines) {
    if (!line.trim()) continue;
    const { table, row } = JSON.parse(line) as { table: string; row: unknown };
    known ??= new Set(await appTables(db));
    if (!known.has(table)) throw new Error(`The file has rows for a table this database does not have: ${table}. Was it exported by a newer mcp-lab?`);
    if (pending?.table !== table) {
      await flush();
      pending = { table, rows: [] };
    }
    pending.rows.push(row);
    if (pending.rows.length >= batch) await flush();
  }
  await flush();
  return counts;
}

function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`Not a table name: ${name}`);
  return `"${name}"`;
}
