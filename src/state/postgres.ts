import type { Db, Queryable, Row } from "./db.js";

/** A PostgreSQL server URL without its password, for messages. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `Postgres at ${parsed.hostname}${parsed.port ? `:${parsed.port}` : ""}${parsed.pathname}`;
  } catch {
    return "Postgres (DATABASE_URL)";
  }
}

/**
 * A PostgreSQL server through `pg`'s pool. The pool reconnects by itself: while the server is
 * down, queries fail (and say so), and they work again once it is back, without a restart.
 */
export async function openPostgres(url: string, onError: (error: Error) => void): Promise<Db> {
  const { default: pg } = await import("pg");
  const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000 });
  // An idle client whose server went away emits here; unhandled, it would end the process.
  pool.on("error", onError);
  const wrap = (q: { query(sql: string, params?: unknown[]): Promise<{ rows: unknown[] }> }): Queryable => ({
    query: async <T extends Row>(sql: string, params?: unknown[]) => (await q.query(sql, params)).rows as T[],
    exec: async (sql) => void (await q.query(sql)),
  });
  return {
    engine: "postgres",
    where: redactedUrl(url),
    ...wrap(pool),
    async transaction(work) {
      const client = await pool.connect();
      try {
        await client.query("begin");
        const result = await work(wrap(client));
        await client.query("commit");
        return result;
      } catch (error) {
        await client.query("rollback").catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
