import { spawn } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OllamaStandIn } from "../support/ollamaStandIn.js";
import { closedPortUrl } from "../support/ports.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { childEnv, ROOT } from "../support/spawn.js";

type Run = { code: number | null; stdout: string; stderr: string; lines: string[] };

const TSX = import.meta.resolve("tsx");

/** Runs a command to its end (killed after 45 s, a guard against a hang, so it fails the test instead of stalling it). */
function run(command: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  const child = spawn(command, args, { cwd: ROOT, env: childEnv(env), stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const killer = setTimeout(() => child.kill("SIGKILL"), 45_000);
  return new Promise((resolve) =>
    child.on("close", (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr, lines: stdout.trimEnd().split("\n") });
    }),
  );
}

const smokeTs = (...args: string[]) => run(process.execPath, ["--import", TSX, `${ROOT}scripts/smoke.ts`, ...args]);
const smokeSh = (...args: string[]) => run("bash", [`${ROOT}scripts/smoke.sh`, ...args], { SMOKE_TIMEOUT: "5" });

/** Every tool the server offers, in the server's order, as both scripts report them. */
const TOOLS =
  "14 tools: add, ask_llm, list_models, compare_models, model_info, get_job, cancel_job, list_jobs, search_docs, get_document, list_sections, ask_docs, pull_model, add_document";

const MCP_PASSES = [
  /^PASS health HTTP 200 status=ok version=\S+$/,
  /^PASS mcp\.initialize server=mcp-lab \S+ protocol=2025-11-25$/,
  new RegExp(`^PASS mcp\\.tools/list ${TOOLS}$`),
  /^PASS mcp\.add add\(2, 3\) = 5$/,
  /^PASS sse\.initialize server=mcp-lab \S+ protocol=2025-11-25$/,
  new RegExp(`^PASS sse\\.tools/list ${TOOLS}$`),
  /^PASS sse\.add add\(2, 3\) = 5$/,
];

/** The lines with what differs from run to run (latencies) taken out: the two scripts must print the same. */
const comparable = (result: Run) => result.lines.map((line) => line.replace(/latencyMs=\d+/, "latencyMs=N"));

function expectLines(result: Run, patterns: RegExp[], last: string): void {
  for (const pattern of patterns)
    expect(
      result.lines.some((line) => pattern.test(line)),
      `${pattern} in\n${result.stdout}`,
    ).toBe(true);
  expect(result.lines.at(-1)).toBe(last);
  expect(result.stdout + result.stderr).not.toMatch(/^\s+at /m);
  for (const line of result.lines.slice(0, -1)) expect(line).toMatch(/^(PASS|FAIL) \S+ \S/);
}

/** An HTTP proxy that answers 401 unless the request carries the bearer token, and records every request. */
async function startAuthProxy(target: string, token: string) {
  const seen: Array<{ method: string; path: string; authorized: boolean }> = [];
  const server = http.createServer((req, res) => {
    const authorized = req.headers.authorization === `Bearer ${token}`;
    seen.push({ method: req.method ?? "", path: (req.url ?? "").split("?")[0]!, authorized });
    if (!authorized) return void res.writeHead(401, { "content-type": "application/json" }).end('{"error":"unauthorized"}');
    const upstream = http.request(new URL(req.url ?? "/", target), { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", () => res.destroy());
    res.on("close", () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, stop };
}

describe("smoke scripts against a healthy server", () => {
  let ollama: OllamaStandIn;
  let server: TestServer;

  beforeAll(async () => {
    ollama = await new OllamaStandIn().start();
    server = await startTestServer({ OLLAMA_BASE_URL: ollama.baseUrl, LLM_MODEL: "qwen3:4b" });
  });
  afterAll(async () => {
    await server.shutdown("test over");
    await ollama.stop();
  });

  it("passes every check with the same lines, in TypeScript and in sh with curl, --ask included", async () => {
    const [ts, sh] = await Promise.all([smokeTs(server.url, "--ask"), smokeSh(server.url, "--ask")]);
    const ready = /^PASS ready HTTP 200 status=ready model=qwen3:4b provider=ollama$/;
    const ask = /^PASS mcp\.ask_llm model=qwen3:4b provider=ollama latencyMs=\d+ answer="Echo from qwen3:4b: Reply with the single word: pong"$/;
    for (const result of [ts, sh]) {
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expectLines(result, [...MCP_PASSES, ready, ask], "9 passed, 0 failed");
      expect(result.lines.at(-2)).toMatch(ask);
    }
    expect(comparable(sh)).toEqual(comparable(ts));
    expect(sh.stderr).toBe("");
  });

  it("without --ask, make the same 8 checks", async () => {
    const [ts, sh] = await Promise.all([smokeTs(server.url), smokeSh(server.url)]);
    expect(ts.lines.at(-1)).toBe("8 passed, 0 failed");
    expect(sh.lines).toEqual(ts.lines);
  });

  it("--ask MODEL asks that model, and a model that is not pulled fails the check with the tool's message", async () => {
    const [ts, sh] = await Promise.all([smokeTs(server.url, "--ask", "llama9:70b"), smokeSh(server.url, "--ask", "llama9:70b")]);
    for (const result of [ts, sh]) {
      expect(result.code, result.stdout).toBe(1);
      expect(result.lines.at(-2)).toMatch(/^FAIL mcp\.ask_llm Model 'llama9:70b' was not found on ollama at .*ollama pull llama9:70b/);
      expect(result.lines.at(-1)).toBe("8 passed, 1 failed");
    }
    expect(sh.lines).toEqual(ts.lines);
  });

  it("sends the bearer token on every request, the SSE stream and its POSTs included", async () => {
    const proxy = await startAuthProxy(server.url, "smoke-token-42");
    try {
      const [ts, sh, shFlag] = await Promise.all([
        smokeTs(proxy.url, "--token", "smoke-token-42", "--ask"),
        smokeSh(proxy.url, "smoke-token-42", "--ask"),
        smokeSh(proxy.url, "--token", "smoke-token-42"),
      ]);
      for (const [result, total] of [
        [ts, 9],
        [sh, 9],
        [shFlag, 8],
      ] as const) {
        expect(result.code, result.stdout).toBe(0);
        expect(result.lines.at(-1)).toBe(`${total} passed, 0 failed`);
      }
      expect(proxy.seen.filter((r) => !r.authorized)).toEqual([]);
      const routes = new Set(proxy.seen.map((r) => `${r.method} ${r.path}`));
      for (const route of ["GET /health", "GET /ready", "POST /mcp", "DELETE /mcp", "GET /sse", "POST /messages"]) expect(routes).toContain(route);
    } finally {
      await proxy.stop();
    }
  });

  it("fails the checks when the token is missing", async () => {
    const proxy = await startAuthProxy(server.url, "smoke-token-42");
    try {
      const [ts, sh] = await Promise.all([smokeTs(proxy.url), smokeSh(proxy.url)]);
      for (const result of [ts, sh]) {
        expect(result.code).toBe(1);
        expect(result.lines[0]).toMatch(/^FAIL health HTTP 401/);
        expect(result.lines[1]).toBe('FAIL ready HTTP 401 reason: {"error":"unauthorized"}');
        expect(result.lines.at(-1)).toBe("0 passed, 8 failed");
      }
    } finally {
      await proxy.stop();
    }
  });
});

describe("smoke scripts when something is wrong", () => {
  let ollama: OllamaStandIn;
  let server: TestServer;

  beforeAll(async () => {
    ollama = await new OllamaStandIn().start();
    server = await startTestServer({ OLLAMA_BASE_URL: ollama.baseUrl, LLM_MODEL: "llama9:70b" });
  });
  afterAll(async () => {
    await server.shutdown("test over");
    await ollama.stop();
  });

  it("fail fast with FAIL lines, not stack traces, when nothing listens", async () => {
    const url = await closedPortUrl();
    const [ts, sh] = await Promise.all([smokeTs(url, "--ask"), smokeSh(url, "--ask")]);
    for (const result of [ts, sh]) {
      expect(result.code, result.stdout).toBe(1);
      expect(result.lines[0]).toMatch(/^FAIL health .*(ECONNREFUSED|Couldn't connect)/);
      expect(result.lines.filter((line) => line.startsWith("FAIL "))).toHaveLength(9);
      // Fast because refused, not because a check's timeout ran out: no check waited for one.
      expect(result.stdout).not.toMatch(/timed out|timeout/i);
      expectLines(result, [/^FAIL mcp\.ask_llm skipped: no HTTP answer from /], "0 passed, 9 failed");
    }
    expect(sh.lines.slice(1)).toEqual(ts.lines.slice(1));
  });

  it("fail /ready with its reason when the default model is not pulled, and still pass the MCP checks", async () => {
    const [ts, sh] = await Promise.all([smokeTs(server.url), smokeSh(server.url)]);
    const ready = /^FAIL ready HTTP 503 status=not_ready model=llama9:70b provider=ollama reason: .*model 'llama9:70b' is not pulled.*ollama pull llama9:70b/;
    for (const result of [ts, sh]) {
      expect(result.code, result.stdout + result.stderr).toBe(1);
      expectLines(result, [...MCP_PASSES, ready], "7 passed, 1 failed");
    }
  });

  it("exit 2 with a usage message on bad usage", async () => {
    const results = await Promise.all([
      ...[[], ["not a url"], ["http://x", "--timeout", "soon"], ["http://x", "--bogus"], ["http://x", "--token"]].map((args) => smokeTs(...args)),
      ...[[], ["ftp://x"], ["http://x", "--timeout", "soon"], ["http://x", "--bogus"], ["http://x", "--token"], ["http://x", "t", "u"]].map((args) =>
        smokeSh(...args),
      ),
    ]);
    for (const result of results) {
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(/usage: .*<base-url>/);
      expect(result.stdout).toBe("");
    }
  });
});
