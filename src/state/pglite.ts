import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Db, Queryable, Row } from "./db.js";
import { StateError } from "./db.js";
import { LOCK_FILE, lockDir } from "./dirLock.js";

type PGliteLike = {
  waitReady: Promise<void>;
  query<T>(sql: string, params?: unknown[]): Promise<{ rows: T[] }>;
  exec(sql: string): Promise<unknown>;
  transaction<T>(
    work: (tx: { query<R>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>; exec(sql: string): Promise<unknown> }) => Promise<T>,
  ): Promise<T>;
  close(): Promise<void>;
};

/**
 * PGlite (Postgres compiled to WebAssembly) with pgvector, persisted in `dir`. Loaded on first
 * use only: the module and its heap (~200 MB RSS) are paid by a server that needs state, not by
 * one that only answers /health. A directory that holds something other than a Postgres data
 * directory is refused, never reset. One process at a time: a lock file (dirLock.ts) says which.
 */
export async function openPglite(dir: string): Promise<Db> {
  if (existsSync(dir) && readdirSync(dir).some((name) => name !== LOCK_FILE) && !existsSync(join(dir, "PG_VERSION"))) {
    throw new StateError(
      `${dir} is not empty and is not an mcp-lab database (no PG_VERSION): move it away, or set DATA_DIR to another directory. Nothing was changed.`,
    );
  }
  const [{ PGlite }, { vector }] = await Promise.all([import("@electric-sql/pglite"), import("@electric-sql/pglite-pgvector")]);
  mkdirSync(dir, { recursive: true });
  const lock = lockDir(dir);
  let pg: PGliteLike;
  try {
    // A small buffer pool: the embedded store serves one process, and RSS matters on small machines.
    pg = new PGlite(dir, { extensions: { vector }, postgresqlconf: ["shared_buffers=16MB"] }) as unknown as PGliteLike;
    await pg.waitReady;
  } catch (error) {
    lock.release();
    throw new StateError(
      `The embedded database in ${dir} could not be opened (${error instanceof Error ? error.message : String(error)}). If the files are damaged, restore them from a backup; nothing was deleted.`,
    );
  }
  const wrap = (q: { query<R>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>; exec(sql: string): Promise<unknown> }): Queryable => ({
    query: async <T extends Row>(sql: string, params?: unknown[]) => (await q.query<T>(sql, params)).rows,
    exec: async (sql) => void (await q.exec(sql)),
  });
  return {
    engine: "pglite",
    where: `the embedded database in ${dir}`,
    ...wrap(pg),
    transaction: (work) => pg.transaction((tx) => work(wrap(tx))),
    close: () => pg.close().finally(() => lock.release()),
  };
}
