import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { StateStore } from "../../src/state/store.js";
import { UsageRecorder } from "../../src/state/usage.js";
import { childEnv, ROOT } from "../support/spawn.js";
import { freshDataDir } from "../support/state.js";

// Each run that opens the store starts PGlite in a new process (seconds on a busy machine): two of them, and a generous limit.

const usage = (args: string[], env: Record<string, string>) =>
  spawnSync(process.execPath, ["--import", import.meta.resolve("tsx"), join(ROOT, "src/cli/usage.ts"), ...args], {
    cwd: tmpdir(),
    env: childEnv(env),
    encoding: "utf8",
  });

describe("pnpm usage", () => {
  it("prints tokens in and out per model per day, per token when asked, and says how to use it", async () => {
    const dir = await freshDataDir();
    const store = new StateStore({ dataDir: dir, databaseUrl: undefined, onPoolError: () => undefined });
    const recorder = new UsageRecorder(store, { retentionDays: 30 });
    recorder.add({ owner: "token:aaaaaaaaaaaaaaaa", model: "qwen3:4b", inputTokens: 1200, outputTokens: 340 });
    recorder.add({ owner: "token:bbbbbbbbbbbbbbbb", model: "qwen3:4b", inputTokens: 800, outputTokens: 60 });
    recorder.add({ owner: "token:aaaaaaaaaaaaaaaa", model: "openai/gpt-4o-mini", inputTokens: 50, outputTokens: 7 });
    await recorder.flush();
    await store.close();
    const today = new Date().toISOString().slice(0, 10);

    const plain = usage([], { DATA_DIR: dir });
    expect(plain.status, plain.stderr).toBe(0);
    expect(plain.stdout.split("\n")).toEqual([
      "day         model               requests  tokens in  tokens out",
      `${today}  openai/gpt-4o-mini         1         50           7`,
      `${today}  qwen3:4b                   2       2000         400`,
      "",
    ]);
    const byToken = usage(["--by-token", "--days", "7", "--json"], { DATA_DIR: dir });
    expect(
      byToken.stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line)),
    ).toEqual([
      { day: today, owner: "token:aaaaaaaaaaaaaaaa", model: "openai/gpt-4o-mini", requests: 1, inputTokens: 50, outputTokens: 7 },
      { day: today, owner: "token:aaaaaaaaaaaaaaaa", model: "qwen3:4b", requests: 1, inputTokens: 1200, outputTokens: 340 },
      { day: today, owner: "token:bbbbbbbbbbbbbbbb", model: "qwen3:4b", requests: 1, inputTokens: 800, outputTokens: 60 },
    ]);
    const wrong = usage(["--days", "zero"], {});
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toContain("pnpm usage --by-token");
  }, 60_000);
});
