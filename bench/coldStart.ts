import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gatewayEnv, IMAGE_NODE_ARGS, ROOT, serverEntry, stopChild, track } from "./procs.js";
import { log, nowMs, type Summary, summarize } from "./stats.js";

export type ColdStartResult = {
  entry: string;
  /** spawn() to the first 200 from /health, with V8's code cache compiled beforehand as the Dockerfile does. */
  toHealthyMs: Summary;
  /** The same without a code cache (the first start of `node dist/index.js` on a machine). */
  toHealthyNoCacheMs: Summary;
  /** spawn() to the "serving MCP" log line. */
  toListeningMs: Summary;
  /** References in the same run: spawn() to a bare `node` printing, and to `node` having imported fastmcp. */
  bareNodeMs: Summary;
  fastmcpImportMs: Summary;
};

/** Compiles what the server imports into a fresh code cache directory, as the Dockerfile does at build time. */
function compiledCodeCache(): string {
  const dir = mkdtempSync(join(tmpdir(), "mcp-lab-code-cache-"));
  spawnSync(process.execPath, [...IMAGE_NODE_ARGS, "--input-type=module", "-e", "await import('./dist/main.js')"], {
    cwd: ROOT,
    env: { ...process.env, NODE_COMPILE_CACHE: dir },
  });
  return dir;
}

/** Starts the server (PORT=0, LOG_LEVEL=info so it logs its port), reads the port from the log line, GETs /health. */
async function gatewayOnce(providerUrl: string, codeCache?: string): Promise<{ listening: number; healthy: number }> {
  const started = nowMs();
  const env = gatewayEnv({ PORT: "0", LOG_LEVEL: "info", OLLAMA_BASE_URL: providerUrl, ...(codeCache && { NODE_COMPILE_CACHE: codeCache }) });
  const child = track(spawn(process.execPath, serverEntry().args, { cwd: tmpdir(), env, stdio: ["ignore", "ignore", "pipe"] }));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let text = "";
      child.stderr!.on("data", (chunk: Buffer) => {
        text += chunk.toString("utf8");
        const match = /"port":(\d+)/.exec(text);
        if (match) resolve(Number(match[1]));
      });
      child.once("exit", (code) => reject(new Error(`server exited (${code}) before listening: ${text.slice(0, 500)}`)));
    });
    const listening = nowMs() - started;
    const response = await fetch(`http://127.0.0.1:${port}/health`);
    await response.text();
    if (response.status !== 200) throw new Error(`/health answered ${response.status}`);
    return { listening, healthy: nowMs() - started };
  } finally {
    await stopChild(child);
  }
}

async function nodeOnce(code: string): Promise<number> {
  const started = nowMs();
  const child = track(
    spawn(process.execPath, ["--input-type=module", "-e", `${code}\nconsole.log("ready");`], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] }),
  );
  await new Promise((resolve) => child.stdout!.once("data", resolve));
  const ms = nowMs() - started;
  await new Promise((resolve) => child.once("exit", resolve));
  return ms;
}

export async function runColdStart(providerUrl: string, runs: number): Promise<ColdStartResult> {
  const times = { listening: [] as number[], healthy: [] as number[], noCache: [] as number[], bare: [] as number[], fastmcp: [] as number[] };
  const codeCache = compiledCodeCache();
  try {
    await gatewayOnce(providerUrl); // warms the page cache: every run below starts from the same state
    for (let i = 0; i < runs; i++) {
      const gateway = await gatewayOnce(providerUrl, codeCache);
      times.listening.push(gateway.listening);
      times.healthy.push(gateway.healthy);
      times.noCache.push((await gatewayOnce(providerUrl)).healthy);
      times.bare.push(await nodeOnce(""));
      times.fastmcp.push(await nodeOnce("await import('fastmcp');"));
    }
  } finally {
    rmSync(codeCache, { recursive: true, force: true });
  }
  const result = {
    entry: serverEntry().kind,
    toHealthyMs: summarize(times.healthy),
    toHealthyNoCacheMs: summarize(times.noCache),
    toListeningMs: summarize(times.listening),
    bareNodeMs: summarize(times.bare),
    fastmcpImportMs: summarize(times.fastmcp),
  };
  log(
    `  cold start p50: ${result.toHealthyMs.p50} ms to healthy (${result.toHealthyNoCacheMs.p50} ms without a code cache; fastmcp import alone ${result.fastmcpImportMs.p50} ms)`,
  );
  return result;
}
