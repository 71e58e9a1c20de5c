import { postgresBin, POSTGRES_SKIP } from "../../dev/postgres.js";

/** The throwaway PostgreSQL server lives in dev/ so that the bench can start one too. */
export { postgresBin, POSTGRES_SKIP, startPostgres, type PostgresServer } from "../../dev/postgres.js";

// Loud, once per test file that needs it: a skip that names nothing looks like a pass.
if (!postgresBin()) console.warn(`SKIPPED the tests on a PostgreSQL server: ${POSTGRES_SKIP}`);
