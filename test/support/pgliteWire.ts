import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { freePort } from "./ports.js";

export type WireServer = { url: string; stop(): Promise<void> };

/**
 * PGlite with pgvector served over the PostgreSQL wire protocol (pglite-socket): the store's `pg`
 * path (DATABASE_URL) then runs the same vector SQL as on a PostgreSQL server with pgvector, which
 * Debian's PostgreSQL here lacks. One connection at a time: PGlite has one session, so a second
 * would share its transactions.
 */
export async function startPgliteWire(): Promise<WireServer> {
  const db = new PGlite({ extensions: { vector } });
  await db.waitReady;
  const port = await freePort();
  const server = new PGLiteSocketServer({ db, port, host: "127.0.0.1", maxConnections: 1 });
  await server.start();
  return {
    url: `postgres://postgres:not-a-secret-pw@127.0.0.1:${port}/postgres`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
