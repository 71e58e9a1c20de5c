import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { templateDir } from "./state.js";

/**
 * Once per run, before any test: the embedded store's template (PGlite's initdb takes seconds),
 * kept in the temp directory for later runs; then a temp directory of this run's own for
 * everything the tests make there (data directories, folders to index, PostgreSQL clusters),
 * removed at the end, so that runs leave nothing behind.
 */
export default async function setup(): Promise<() => void> {
  process.env.MCP_LAB_TEMPLATE_ROOT ||= tmpdir();
  await templateDir();
  const run = mkdtempSync(join(tmpdir(), "mcp-lab-test-run-"));
  // Open to other users like the temp directory itself: PostgreSQL runs as its own user when the suite runs as root.
  chmodSync(run, 0o1777);
  process.env.TMPDIR = run;
  return () => rmSync(run, { recursive: true, force: true });
}
