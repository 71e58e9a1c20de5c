import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPglite } from "../../src/state/pglite.js";
import { OllamaStandIn } from "../support/ollamaStandIn.js";
import { startPgliteWire } from "../support/pgliteWire.js";
import { postgresBin, startPostgres } from "../support/postgres.js";
import { childEnv, collect, ROOT } from "../support/spawn.js";
import { freshDataDir } from "../support/state.js";

/** `pnpm index` as a user runs it: its own process, output to a pipe (so plain lines, no bar). */
async function index(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ["--import", import.meta.resolve("tsx"), join(ROOT, "src/cli/index.ts"), ...args], {
    cwd: tmpdir(),
    env: childEnv(env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = collect(child);
  const code = await output.exit;
  return { code, out: output.stdout() + output.stderr() };
}

function notes(): string {
  const folder = join(mkdtempSync(join(tmpdir(), "mcp-lab-cli-")), "notes");
  mkdirSync(folder);
  writeFileSync(join(folder, "a.md"), "# A\n\n## One\n\nFirst part.\n\n## Two\n\nSecond part.");
  writeFileSync(join(folder, "b.txt"), "Plain text.");
  writeFileSync(join(folder, "c.bin"), Buffer.from([0, 1, 2]));
  return folder;
}

describe("pnpm index", () => {
  let ollama: OllamaStandIn;
  beforeAll(async () => {
    ollama = await new OllamaStandIn().start();
  });
  afterAll(() => ollama.stop());

  it("indexes a folder with a line per file and a summary, then finds nothing to do", async () => {
    const folder = notes();
    const dataDir = await freshDataDir();
    const first = await index([folder], { OLLAMA_BASE_URL: ollama.baseUrl, DATA_DIR: dataDir });
    expect(first.code, first.out).toBe(0);
    const lines = first.out.trim().split("\n");
    expect(lines.slice(0, 4)).toEqual([
      "3 file(s) to check",
      "indexed notes/a.md (2 chunks)",
      "indexed notes/b.txt (1 chunk)",
      "skipped notes/c.bin: not text (binary)",
    ]);
    expect(lines.at(-1)).toMatch(
      new RegExp(
        `^3 file\\(s\\): 2 indexed, 0 unchanged, 1 skipped, 0 removed; 3 chunk\\(s\\), \\d+ token\\(s\\) embedded with embeddinggemma \\(768 dimensions\\), in [\\d.]+ s, into the embedded database in ${dataDir}\\.$`,
      ),
    );
    const again = await index([folder, "--prune"], { OLLAMA_BASE_URL: ollama.baseUrl, DATA_DIR: dataDir });
    expect(again.out).toContain("3 file(s): 0 indexed, 2 unchanged, 1 skipped, 0 removed; 0 chunk(s), 0 token(s)");
  });

  it("names the model to pull, says the index is consistent, and exits 1", async () => {
    const result = await index([notes()], { OLLAMA_BASE_URL: ollama.baseUrl, EMBED_MODEL: "nomic-embed-text:v1.5" });
    expect(result.code).toBe(1);
    expect(result.out).toContain(
      "index: The embedding model 'nomic-embed-text:v1.5' (EMBED_MODEL) is not pulled into Ollama. Pull it with `ollama pull nomic-embed-text:v1.5`",
    );
    expect(result.out).toContain("Each file is either fully indexed or as it was; run the same command again to go on.");
  });

  it("refuses a DATA_DIR another process has open, and explains usage", async () => {
    const dataDir = await freshDataDir();
    const server = await openPglite(dataDir);
    const busy = await index([notes()], { OLLAMA_BASE_URL: ollama.baseUrl, DATA_DIR: dataDir });
    await server.close();
    expect(busy.code).toBe(1);
    expect(busy.out).toContain(`${dataDir} is in use by another mcp-lab process (pid ${process.pid}`);
    const usage = await index([], {});
    expect(usage.code).toBe(2);
    expect(usage.out).toContain("index: name at least one folder or file");
    expect(usage.out).toContain("pnpm index [--section NAME] [--prune] <folder or file>...");
  });

  it("indexes into a PostgreSQL server named by DATABASE_URL (here PGlite over the wire), never printing its password", async () => {
    const wire = await startPgliteWire();
    const result = await index([notes(), "--section", "handbook"], { OLLAMA_BASE_URL: ollama.baseUrl, DATABASE_URL: wire.url });
    await wire.stop();
    expect(result.code, result.out).toBe(0);
    expect(result.out).toMatch(/2 indexed.*into Postgres at 127\.0\.0\.1:\d+\/postgres\.$/m);
    expect(result.out).not.toContain("not-a-secret-pw");
  });

  it.skipIf(!postgresBin())("says which extension a PostgreSQL server lacks before embedding anything", async () => {
    const server = await startPostgres();
    const before = ollama.requests.length;
    const result = await index([notes()], { OLLAMA_BASE_URL: ollama.baseUrl, DATABASE_URL: server.url });
    await server.stop();
    expect(result.code).toBe(1);
    expect(result.out).toContain("has no `vector` extension (pgvector), which document search needs");
    expect(ollama.requests.length).toBe(before);
  });
});
