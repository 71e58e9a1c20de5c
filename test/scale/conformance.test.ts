import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OllamaStandIn } from "../support/ollamaStandIn.js";
import { startTestServer, type TestServer } from "../support/server.js";

/**
 * The official MCP conformance suite (@modelcontextprotocol/conformance, a devDependency) run
 * against the real server, in-process on loopback. Its CLI is spawned with this Node
 * (process.execPath) from the package's own `bin`, and each scenario's checks.json is read back.
 *
 * The scenarios chosen are the ones that fit any server. The others in `conformance list` call
 * tools, prompts and resources that only the suite's reference server has (tools-call-image,
 * prompts-get-*, resources-*, elicitation-*, ...), so they do not apply to this server.
 */

const require = createRequire(import.meta.url);
const packageJsonPath = require.resolve("@modelcontextprotocol/conformance/package.json");
const packageJson = JSON.parse(readFileSync(packageJsonPath, "utf8")) as { bin: string | Record<string, string> };
const binRelative = typeof packageJson.bin === "string" ? packageJson.bin : packageJson.bin.conformance!;
const CONFORMANCE_BIN = join(dirname(packageJsonPath), binRelative);

type Check = { id: string; name: string; status: "SUCCESS" | "FAILURE" | "WARNING" | "INFO" | string; errorMessage?: string };
type Run = { code: number | null; output: string; checks: Check[] };

async function runScenario(url: string, scenario: string): Promise<Run> {
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

function expectAllPassed(scenario: string, run: Run): void {
  const problems = run.checks.filter((check) => check.status === "FAILURE" || check.status === "WARNING");
  const report = `conformance scenario ${scenario} (exit ${run.code}):\n${run.output}\n${JSON.stringify(problems, null, 2)}`;
  expect(run.checks.filter((check) => check.status === "SUCCESS").length, report).toBeGreaterThan(0);
  expect(problems, report).toEqual([]);
  expect(run.code, report).toBe(0);
}

describe("the official MCP conformance suite", () => {
  let ollama: OllamaStandIn;
  let server: TestServer;
  beforeAll(async () => {
    ollama = await new OllamaStandIn().start();
    server = await startTestServer({ OLLAMA_BASE_URL: ollama.baseUrl, LOG_LEVEL: "info" });
  });
  afterAll(async () => {
    await server?.shutdown("test over");
    await ollama?.stop();
  });

  it.each(["server-initialize", "ping", "tools-list", "logging-set-level", "server-sse-multiple-streams"])("passes %s on /mcp", async (scenario) => {
    expectAllPassed(scenario, await runScenario(`${server.url}/mcp`, scenario));
  });

  it("passes dns-rebinding-protection: a foreign Host/Origin gets 4xx, a localhost one is served", async () => {
    // The scenario only runs against a localhost URL; it then sends Host/Origin evil.example.com
    // (expects 4xx: we answer 403) and Host/Origin localhost:<port> (expects 2xx).
    const run = await runScenario(`http://localhost:${server.http!.port}/mcp`, "dns-rebinding-protection");
    expectAllPassed("dns-rebinding-protection", run);
    expect(run.checks.map((check) => check.id)).toEqual(expect.arrayContaining(["localhost-host-rebinding-rejected", "localhost-host-valid-accepted"]));
  });
});
