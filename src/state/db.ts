/**
 * The one storage interface: SQL with `$1` parameters, the same on both engines (PGlite embedded,
 * a PostgreSQL server). Features add tables (a migration) and queries, never storage code.
 */
export type Row = Record<string, unknown>;

export type Queryable = {
  query<T extends Row = Row>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Several statements, no parameters (migrations). */
  exec(sql: string): Promise<void>;
};

export type Db = Queryable & {
  readonly engine: "pglite" | "postgres";
  /** Where the data lives, without credentials: for messages and /ready. */
  readonly where: string;
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
};

/** The store cannot be used right now (down, unreachable, refused); the message says what to do. */
export class StateError extends Error {
  override readonly name = "StateError";
}
