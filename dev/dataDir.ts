import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MIGRATIONS, migrate } from "../src/state/migrations.js";
import { openPglite } from "../src/state/pglite.js";

/**
 * An embedded store for one test server: a copy of a template made once (PGlite's initdb takes
 * seconds; copying its files takes milliseconds). The template is kept in the temp directory,
 * named after the schema, so later runs reuse it.
 */
export async function freshDataDir(): Promise<string> {
  await templateDir();
  return freshDataDirSync();
}

/** The same, for a child process's environment: a copy of the template (made by the suite's global set-up). */
export function freshDataDirSync(): string {
  const dir = mkdtempSync(join(tmpdir(), "mcp-lab-state-"));
  if (existsSync(join(templatePath(), "PG_VERSION"))) cpSync(templatePath(), dir, { recursive: true });
  return dir;
}

/**
 * Where templates are kept: the temp directory, or MCP_LAB_TEMPLATE_ROOT when the test suite has
 * moved the temp directory into one it removes at the end (the template outlives a run).
 */
function templatePath(): string {
  const schema = createHash("sha256").update(JSON.stringify(MIGRATIONS)).digest("hex").slice(0, 12);
  return join(process.env.MCP_LAB_TEMPLATE_ROOT || tmpdir(), `mcp-lab-pglite-template-${schema}`);
}

export function removeDataDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

let making: Promise<string> | undefined;

export function templateDir(): Promise<string> {
  making ??= (async () => {
    const dir = templatePath();
    if (existsSync(join(dir, "PG_VERSION"))) return dir;
    // Built aside and renamed into place, so a parallel worker never copies half a template.
    const building = mkdtempSync(join(process.env.MCP_LAB_TEMPLATE_ROOT || tmpdir(), "mcp-lab-pglite-building-"));
    const db = await openPglite(building);
    await migrate(db);
    await db.close();
    try {
      renameSync(building, dir);
    } catch {
      rmSync(building, { recursive: true, force: true }); // another worker won the race
    }
    return dir;
  })();
  return making;
}
