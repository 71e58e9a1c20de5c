import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConversationStore } from "../../src/state/conversations.js";
import { StateStore } from "../../src/state/store.js";
import { childEnv, ROOT } from "../support/spawn.js";
import { freshDataDir } from "../support/state.js";

const limits = { ttlMs: 3_600_000, maxTurns: 20, maxBytes: 10_000_000, maxBytesPerOwner: 1_000_000 };
const state = (args: string[], env: Record<string, string>) =>
  spawnSync(process.execPath, ["--import", import.meta.resolve("tsx"), join(ROOT, "src/cli/state.ts"), ...args], {
    cwd: tmpdir(),
    env: childEnv(env),
    encoding: "utf8",
  });

describe("pnpm state", () => {
  it("exports one store and imports it into another, and says how to use it", async () => {
    const from = await freshDataDir();
    const store = new StateStore({ dataDir: from, databaseUrl: undefined, onPoolError: () => undefined });
    const conversations = new ConversationStore(store, limits);
    const saved = await conversations.record(conversations.start("token:a"), { role: "user", content: "keep me" }, { role: "assistant", content: "kept" });
    await store.close();
    const file = join(mkdtempSync(join(tmpdir(), "mcp-lab-export-")), "state.jsonl");
    const exported = state(["export", file], { DATA_DIR: from });
    expect(exported.status, exported.stderr).toBe(0);
    expect(exported.stderr).toContain(`exported 1 rows from the embedded database in ${from}`);
    expect(readFileSync(file, "utf8")).toContain("keep me");
    const to = await freshDataDir();
    const imported = state(["import", file], { DATA_DIR: to });
    expect(imported.status, imported.stderr).toBe(0);
    expect(imported.stderr).toContain("conversations 1");
    const target = new StateStore({ dataDir: to, databaseUrl: undefined, onPoolError: () => undefined });
    expect((await new ConversationStore(target, limits).get(saved.id, "token:a"))?.turns).toEqual(saved.turns);
    await target.close();
    const usage = state([], {});
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain("pnpm state export FILE");
  });
});
