import { POSTGRES_SKIP, type PostgresServer, postgresBin, startPostgres } from "./postgres.js";
import { freshDataDir, removeDataDir } from "./state.js";

export type Engine = { name: string; open(): Promise<{ dataDir: string; databaseUrl: string | undefined }>; close(): Promise<void> };

/**
 * The store's two engines, for `describe.each`: PGlite in a fresh directory, and a real PostgreSQL
 * server started for the suite. Without PostgreSQL installed, only PGlite runs, and that is said loudly.
 */
export function engines(): Engine[] {
  const pglite: Engine = (() => {
    let dir = "";
    return {
      name: "pglite",
      async open() {
        dir = await freshDataDir();
        return { dataDir: dir, databaseUrl: undefined };
      },
      async close() {
        removeDataDir(dir);
      },
    };
  })();
  if (!postgresBin()) {
    console.warn(`SKIPPED the PostgreSQL engine: ${POSTGRES_SKIP}`);
    return [pglite];
  }
  let server: PostgresServer | undefined;
  const postgres: Engine = {
    name: "postgres",
    async open() {
      server = await startPostgres();
      return { dataDir: "", databaseUrl: server.url };
    },
    async close() {
      await server?.stop();
    },
  };
  return [pglite, postgres];
}
