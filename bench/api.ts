import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os, { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { Agent, request } from "undici";
import { freshDataDir } from "../dev/dataDir.js";

/**
 * `pnpm bench:api`: what the /v1 endpoints add to a request. The same request (a short prompt,
 * an answer of 10 tokens after 20 ms, 1 ms apart) goes straight to the upstream and through the
 * server, alternating one by one in the same run, at concurrency 1, streamed and whole, for
 * /v1/chat/completions and /v1/messages; latency is to the last byte of the answer. Writes its
 * section of BENCHMARKS.md (between its markers) and prints the numbers as JSON.
 * Flags: --quick (fewer samples), --no-build (use dist/ as it is).
 */

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const args = new Set(process.argv.slice(2));
const SAMPLES = args.has("--quick") ? 100 : 600;
const WARMUP = 100;
const TOKEN = "bench-api-token-0123456789abcdef";
const START = "<!-- bench:api -->";
const END = "<!-- /bench:api -->";
const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

function spawnTracked(argv: string[], env: NodeJS.ProcessEnv, stdout: "pipe" | "ignore"): ChildProcess {
  const child = spawn(process.execPath, argv, {
    cwd: tmpdir(),
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ["ignore", stdout, "inherit"],
  });
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

/** A helper of the bench in its own process (it prints {"port":N}). */
async function startHelper(file: string, env: Record<string, string> = {}): Promise<{ url: string; pid: number }> {
  const child = spawnTracked(["--import", import.meta.resolve("tsx"), `${ROOT}bench/${file}`], env, "pipe");
  const port = await new Promise<number>((resolve) =>
    child.stdout!.once("data", (chunk: Buffer) => resolve((JSON.parse(chunk.toString("utf8")) as { port: number }).port)),
  );
  return { url: `http://127.0.0.1:${port}`, pid: child.pid! };
}

/** CPU time a process has used so far, from /proc/<pid>/schedstat, in ms. */
const cpuMsOf = (pid: number) => Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[0]) / 1e6;

/** The server as the image runs it (dist/, built unless --no-build), on a free port. */
async function startServer(upstream: string, dataDir: string): Promise<{ url: string; entry: string; pid: number }> {
  if (!args.has("--no-build"))
    spawnSync(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, "-p", "tsconfig.build.json"], { cwd: ROOT, stdio: "inherit" });
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const entry = existsSync(`${ROOT}dist/index.js`)
    ? ["--max-semi-space-size=4", `${ROOT}dist/index.js`]
    : ["--import", import.meta.resolve("tsx"), `${ROOT}src/index.ts`];
  const env = {
    PORT: String(port),
    HOST: "127.0.0.1",
    LOG_LEVEL: "warn",
    MCP_AUTH_TOKEN: TOKEN,
    RATE_LIMIT_PER_MINUTE: "0",
    OLLAMA_BASE_URL: upstream,
    DATA_DIR: dataDir,
    MODELS_CACHE_TTL_MS: "3600000",
  };
  const child = spawnTracked(entry, env, "ignore");
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (
      await fetch(`${url}/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { url, entry: `node ${entry.map((a) => a.replace(ROOT, "")).join(" ")}`, pid: child.pid! };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("the server did not start");
}

type Case = { route: "/v1/chat/completions" | "/v1/messages"; stream: boolean };
const CASES: Case[] = [
  { route: "/v1/chat/completions", stream: true },
  { route: "/v1/chat/completions", stream: false },
  { route: "/v1/messages", stream: true },
  { route: "/v1/messages", stream: false },
];

const dispatcher = new Agent({ keepAliveTimeout: 60_000, connections: 4 });

/** Both APIs take this body as it is: a model, max_tokens, messages and stream. */
const bodyOf = (c: Case) => JSON.stringify({ model: "bench:1b", max_tokens: 64, messages: [{ role: "user", content: "Say ten words." }], stream: c.stream });

/** One request, timed from its start to the last byte of its answer, in ms. */
async function timed(base: string, c: Case): Promise<number> {
  const started = performance.now();
  const response = await request(`${base}${c.route}`, {
    method: "POST",
    dispatcher,
    headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}`, "anthropic-version": "2023-06-01" },
    body: bodyOf(c),
  });
  const text = await response.body.text();
  const elapsed = performance.now() - started;
  if (response.statusCode !== 200 || !text.includes("word9")) throw new Error(`${base}${c.route}: ${response.statusCode} ${text.slice(0, 200)}`);
  return elapsed;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

type Sides = { upstream: string; floor: string; server: string; pids: { floor: number; server: number } };
type Row = Case & {
  samples: number;
  direct: number[];
  floor: number[];
  through: number[];
  added: number[];
  overFloor: number[];
  floorCpuMs: number;
  serverCpuMs: number;
};

/**
 * Every case, both ways, WARMUP times (JIT, pools, the model list); then a wait past the usage
 * recorder's first write, which opens the embedded store once (PGlite), so that it is not measured.
 */
async function warmUp(sides: Sides): Promise<void> {
  for (const c of CASES) {
    for (let i = 0; i < WARMUP; i++) {
      await timed(sides.upstream, c);
      await timed(sides.floor, c);
      await timed(sides.server, c);
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 7_000));
}

async function measure(c: Case, sides: Sides): Promise<Row> {
  const bases = [sides.upstream, sides.floor, sides.server];
  const samples: number[][] = [[], [], []];
  const cpu = [0, 0, 0];
  const pidOf = [undefined, sides.pids.floor, sides.pids.server];
  // One of each in turn, the order rotating: all three see the same machine at the same moment.
  for (let i = 0; i < SAMPLES; i++) {
    for (let k = 0; k < 3; k++) {
      const side = (i + k) % 3;
      const pid = pidOf[side];
      const before = pid === undefined ? 0 : cpuMsOf(pid);
      samples[side]!.push(await timed(bases[side]!, c));
      if (pid !== undefined) cpu[side]! += cpuMsOf(pid) - before;
    }
  }
  const [direct, floor, through] = samples.map((list) => {
    const sorted = [...list].sort((a, b) => a - b);
    return [50, 95, 99].map((p) => percentile(sorted, p));
  }) as [number[], number[], number[]];
  const overFloor = through.map((t, i) => t - floor[i]!);
  return {
    ...c,
    samples: SAMPLES,
    direct,
    floor,
    through,
    added: through.map((t, i) => t - direct[i]!),
    overFloor,
    floorCpuMs: cpu[1]! / SAMPLES,
    serverCpuMs: cpu[2]! / SAMPLES,
  };
}

const spread = (values: number[]) => `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`;
const ms = (values: number[]) => values.map((v) => v.toFixed(2)).join(" / ");

function section(rows: Row[], entry: string): string {
  const lines = [
    START,
    "## /v1 endpoints: added latency against the same request sent straight to the upstream",
    "",
    `Written by \`pnpm bench:api\` (bench/api.ts) on ${new Date().toISOString().replace(/\.\d+Z$/, "Z")}: ${os.cpus()[0]?.model ?? "?"}, ${os.availableParallelism()} cores, Node.js ${process.version}.`,
    `The server is \`${entry}\` (LOG_LEVEL=warn, a token, RATE_LIMIT_PER_MINUTE=0); the upstream (bench/apiUpstream.ts, its own process) answers as Ollama's /v1 endpoints do: 10 tokens, the first after 20 ms, then 1 ms apart.`,
    `Each row: ${rows[0]?.samples ?? 0} requests each way at concurrency 1 — direct, through a bare pass-through process (bench/passThrough.ts: node:http piping bytes, the floor for any process in the middle) and through mcp-lab — one of each in turn, after ${WARMUP} warm-up requests each; latency to the last byte. *added* = mcp-lab's percentile minus the direct one; *over the floor* = mcp-lab's minus the pass-through's; *CPU* = the middle process's CPU time per request (/proc/<pid>/schedstat), the pass-through's and mcp-lab's.`,
    `Load average while it ran: ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(", ")} (other work on the machine shows up in every column).`,
    "",
    "| route | answer | direct p50 / p95 / p99 (ms) | bare pass-through p50 / p95 / p99 (ms) | mcp-lab p50 / p95 / p99 (ms) | added p50 / p95 / p99 (ms) | over the floor p50 (ms) | CPU per request: pass-through / mcp-lab (ms) | target: added p50 < 1 ms |",
    "|---|---|---|---|---|---|---|---|---|",
    ...rows.map(
      (r) =>
        `| \`${r.route}\` | ${r.stream ? "streamed" : "whole"} | ${ms(r.direct)} | ${ms(r.floor)} | ${ms(r.through)} | ${ms(r.added)} | ${r.overFloor[0]!.toFixed(2)} | ${r.floorCpuMs.toFixed(2)} / ${r.serverCpuMs.toFixed(2)} | ${r.added[0]! < 1 ? "PASS" : "**MISS**"} |`,
    ),
    "",
    `In this run a bare process in the middle added ${spread(rows.map((r) => r.floor[0]! - r.direct[0]!))} ms at the median, and mcp-lab ${spread(rows.map((r) => r.overFloor[0]!))} ms over that.`,
    "",
    "What the server does in that time: the guard (Host, token hash, rate), reading and checking the body, MODEL_ALIASES and the cached model list, a slot of the fair limiter, one upstream request on a keep-alive pool, and for a stream every event parsed, its text redacted (a secret cut across events included) and written again; usage is summed in memory and written to the store every few seconds.",
    END,
  ];
  return lines.join("\n");
}

function writeSection(text: string): void {
  const file = `${ROOT}BENCHMARKS.md`;
  const current = existsSync(file) ? readFileSync(file, "utf8") : "# Benchmarks\n";
  const start = current.indexOf(START);
  const end = current.indexOf(END);
  const next = start !== -1 && end > start ? current.slice(0, start) + text + current.slice(end + END.length) : `${current.trimEnd()}\n\n${text}\n`;
  writeFileSync(file, next);
}

// A store already made (a copy of the tests' template): creating one (initdb) is not what is measured.
const dataDir = await freshDataDir();
try {
  const upstream = (await startHelper("apiUpstream.ts")).url;
  const floor = await startHelper("passThrough.ts", { PROVIDER_URL: upstream });
  const server = await startServer(upstream, dataDir);
  const sides = { upstream, floor: floor.url, server: server.url, pids: { floor: floor.pid, server: server.pid } };
  await warmUp(sides);
  const rows: Row[] = [];
  for (const c of CASES) rows.push(await measure(c, sides));
  writeSection(section(rows, server.entry));
  process.stdout.write(`${JSON.stringify(rows.map(({ samples: _, ...row }) => row))}\n`);
} finally {
  for (const child of children) child.kill("SIGTERM");
  rmSync(dataDir, { recursive: true, force: true });
}
