import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { expect } from "vitest";

/**
 * The official MCP conformance suite (@modelcontextprotocol/conformance, a devDependency): its CLI
 * spawned with this Node (process.execPath) from the package's own `bin`, one scenario against a
 * URL, and each scenario's checks.json read back.
 */

const require = createRequire(import.meta.url);
const packageJsonPath = require.resolve("@modelcontextprotocol/conformance/package.json");
const packageJson = JSON.parse(readFileSync(packageJsonPath, "utf8")) as { bin: string | Record<string, string> };
const binRelative = typeof packageJson.bin === "string" ? packageJson.bin : packageJson.bin.conformance!;
const CONFORMANCE_BIN = join(dirname(packageJsonPath), binRelative);

type Check = { id: string; name: string; status: "SUCCESS" | "FAILURE" | "WARNING" | "INFO" | string; errorMessage?: string };
type Run = { code: number | null; output: string; checks: Check[] };

export async function runScenario(url: string, scenario: string): Promise<Run> {
  const outputDir = mkdtempSync(join(tmpdir(), "mcp-lab-conformance-"));
  try {
    const child = spawn(process.execPath, [CONFORMANCE_BIN, "server", "--url", url, "--scenario", scenario, "--output-dir", outputDir], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    const code = await new Promise<number | null>((resolve) => child.on("close", (exitCode) => resolve(exitCode)));
    clearTimeout(killer);
    // The CLI writes <output-dir>/server-<scenario>-<timestamp>/checks.json.
    const runDir = readdirSync(outputDir).find((name) => name.startsWith(`server-${scenario}-`));
    const checks = runDir ? (JSON.parse(readFileSync(join(outputDir, runDir, "checks.json"), "utf8")) as Check[]) : [];
    return { code, output, checks };
  } finally {
    rmSync(outputDir, { recursive: true, force: true });
  }
}

export function expectAllPassed(scenario: string, run: Run): void {
  const problems = run.checks.filter((check) => check.status === "FAILURE" || check.status === "WARNING");
  const report = `conformance scenario ${scenario} (exit ${run.code}):\n${run.output}\n${JSON.stringify(problems, null, 2)}`;
  expect(run.checks.filter((check) => check.status === "SUCCESS").length, report).toBeGreaterThan(0);
  expect(problems, report).toEqual([]);
  expect(run.code, report).toBe(0);
}
