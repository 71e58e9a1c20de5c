import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { StateError } from "../../src/state/db.js";
import { MIGRATIONS, migrate } from "../../src/state/migrations.js";
import { openPglite } from "../../src/state/pglite.js";
import { openPostgres, redactedUrl } from "../../src/state/postgres.js";
import { StateStore } from "../../src/state/store.js";
import { engines } from "../support/engines.js";
import { postgresBin, startPostgres } from "../support/postgres.js";

describe.each(engines())("migrations on $name", (engine) => {
  afterAll(() => engine.close());

  it("apply once, are a no-op the second time, and refuse a schema newer than the code", async () => {
    const store = new StateStore({ ...(await engine.open()), onPoolError: () => undefined });
    const versions = () => store.use((db) => db.query<{ version: number }>("select version from schema_migrations order by version"));
    expect((await versions()).map((row) => row.version)).toEqual(MIGRATIONS.map((m) => m.version));
    await store.use((db) => migrate(db));
    expect(await versions()).toHaveLength(MIGRATIONS.length);
    await store.use((db) => db.query("insert into schema_migrations (version, name) values (999, 'from the future')"));
    const error = await store.use((db) => migrate(db)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StateError);
    expect((error as Error).message).toMatch(/has schema version 999, newer than this server's \d+: it was written by a newer mcp-lab\. Upgrade this server/);
    await store.close();
  });
});

describe.skipIf(!postgresBin())("two replicas starting at once against an empty PostgreSQL database", () => {
  it("take turns on the advisory lock: both start, the schema is applied once", async () => {
    const server = await startPostgres();
    const [a, b] = await Promise.all([openPostgres(server.url, () => undefined), openPostgres(server.url, () => undefined)]);
    const results = await Promise.all([migrate(a), migrate(b)]);
    expect(results.map((r) => r.from).sort()).toEqual([0, MIGRATIONS.at(-1)!.version]);
    expect(await a.query("select count(*)::integer as n from schema_migrations")).toEqual([{ n: MIGRATIONS.length }]);
    await Promise.all([a.close(), b.close()]);
    await server.stop();
  });
});

describe("the embedded store's directory", () => {
  it("refuses a directory that holds something else, and deletes nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mcp-lab-foreign-"));
    writeFileSync(join(dir, "notes.txt"), "mine");
    await expect(openPglite(dir)).rejects.toThrow(/is not empty and is not an mcp-lab database \(no PG_VERSION\)[\s\S]*Nothing was changed/);
    expect(readdirSync(dir)).toEqual(["notes.txt"]);
  });

  it("says so, and deletes nothing, when the database files are damaged", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mcp-lab-damaged-"));
    writeFileSync(join(dir, "PG_VERSION"), "17\n");
    mkdirSync(join(dir, "global"));
    writeFileSync(join(dir, "global", "pg_control"), "not a control file");
    const error = await openPglite(dir).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StateError);
    expect((error as Error).message).toContain(`The embedded database in ${dir} could not be opened`);
    expect(readdirSync(dir)).toEqual(expect.arrayContaining(["PG_VERSION", "global"]));
    expect(readFileSync(join(dir, "global", "pg_control"), "utf8")).toBe("not a control file");
  });
});

describe("a database URL in messages", () => {
  it("names the host and database, never the password", () => {
    expect(redactedUrl("postgres://mcp:s3cret-pw@db.example.com:5432/mcp_lab")).toBe("Postgres at db.example.com:5432/mcp_lab");
  });
});
