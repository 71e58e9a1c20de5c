import { POSTGRES_SKIP, postgresBin } from "../../dev/postgres.js";

/** The throwaway PostgreSQL server lives in dev/ so that the bench can start one too. */
export { POSTGRES_SKIP, type PostgresServer, postgresBin, startPostgres } from "../../dev/postgres.js";

// Loud, once per test file that needs it: a skip that names nothing looks like a pass.
if (!postgresBin()) console.warn(`SKIPPED the tests on a PostgreSQL server: ${POSTGRES_SKIP}`);
