import { type Db, StateError } from "./db.js";
import { migrate } from "./migrations.js";
import { openPglite } from "./pglite.js";
import { openPostgres, redactedUrl } from "./postgres.js";

export type StateOptions = {
  /** The embedded store's directory (DATA_DIR), used when no server is named. */
  dataDir: string;
  /** A PostgreSQL server (DATABASE_URL) shared by every replica. */
  databaseUrl: string | undefined;
  onPoolError: (error: Error) => void;
};

type Task = (db: Db, now: Date) => Promise<void>;

/**
 * Durable state: PGlite in DATA_DIR by default, a PostgreSQL server when DATABASE_URL is set; one
 * schema, one set of queries. Opened and migrated on first use, so a server that never needs
 * state never loads the embedded engine. A failure to open is not remembered: the next use tries
 * again, so a database that was down works again once it is back, without a restart.
 */
export class StateStore {
  readonly where: string;
  private opening: Promise<Db> | undefined;
  private opened: Db | undefined;
  private readonly tasks: Task[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: StateOptions) {
    this.where = options.databaseUrl ? redactedUrl(options.databaseUrl) : `the embedded database in ${options.dataDir}`;
  }

  get engine(): "pglite" | "postgres" {
    return this.options.databaseUrl ? "postgres" : "pglite";
  }

  /** Runs `work` against the database; any failure of the store itself becomes a StateError naming it. */
  async use<T>(work: (db: Db) => Promise<T>): Promise<T> {
    const db = await this.db();
    try {
      return await work(db);
    } catch (error) {
      throw stateError(error, this.where);
    }
  }

  /** Housekeeping run every `intervalMs` once the store is open (expiry, budgets). */
  onMaintenance(task: Task): void {
    this.tasks.push(task);
  }

  startMaintenance(intervalMs = 60_000): void {
    this.timer ??= setInterval(() => void this.maintain(), intervalMs).unref();
  }

  async maintain(now = new Date()): Promise<void> {
    const db = this.opened;
    if (!db) return;
    for (const task of this.tasks) await task(db, now).catch(() => undefined);
  }

  /** For /ready: a server is asked; the embedded store is asked only once it is open (a probe does not load it). */
  async check(signal: AbortSignal): Promise<{ ok: true } | { ok: false; reason: string }> {
    if (!this.options.databaseUrl && !this.opened) return { ok: true };
    try {
      await Promise.race([this.use((db) => db.query("select 1")), abortion(signal)]);
      return { ok: true };
    } catch (error) {
      return { ok: false, reason: error instanceof Error ? error.message : String(error) };
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    const db = this.opened;
    this.opened = undefined;
    this.opening = undefined;
    await db?.close();
  }

  private db(): Promise<Db> {
    this.opening ??= this.open().then(
      (db) => (this.opened = db),
      (error: unknown) => {
        this.opening = undefined;
        throw stateError(error, this.where);
      },
    );
    return this.opening;
  }

  private async open(): Promise<Db> {
    const { dataDir, databaseUrl, onPoolError } = this.options;
    const db = databaseUrl ? await openPostgres(databaseUrl, onPoolError) : await openPglite(dataDir);
    try {
      await migrate(db);
      return db;
    } catch (error) {
      await db.close().catch(() => undefined);
      throw error;
    }
  }
}

function stateError(error: unknown, where: string): StateError {
  if (error instanceof StateError) return error;
  const message = error instanceof Error ? error.message || (error as { code?: string }).code || error.name : String(error);
  return new StateError(`The state store (${where}) failed: ${message}. Try again in a moment; if it persists, check that the database is up.`);
}

function abortion(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(new Error("no answer in time"));
    signal.addEventListener("abort", () => reject(new Error("no answer in time")), { once: true });
  });
}
