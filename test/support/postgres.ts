/** The throwaway PostgreSQL server lives in dev/ so that the bench can start one too. */
export { postgresBin, POSTGRES_SKIP, startPostgres, type PostgresServer } from "../../dev/postgres.js";
