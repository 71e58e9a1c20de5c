import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import type { Path, Target } from "./clients.js";
import { runColdStart } from "./coldStart.js";
import { runContainer } from "./container.js";
import { runInitialize } from "./initialize.js";
import { runLongAnswers } from "./longAnswer.js";
import { runMemory } from "./memory.js";
import { runOllama } from "./ollama.js";
import { type Level, type LevelResult, runLevel } from "./overhead.js";
import { gatewayEnv, IMAGE_NODE_ARGS, ROOT, serverEntry, startGateway, startPassThrough, startStandIn } from "./procs.js";
import { runProviderClient } from "./providerClient.js";
import { renderReport } from "./report.js";
import type { BenchResults } from "./results.js";
import { benchModel, type StandInOptions } from "./standIn.js";
import { log, round } from "./stats.js";

/**
 * `pnpm bench`: measures the gateway against a provider stand-in with a fixed latency and writes
 * BENCHMARKS.md and BENCHMARKS.json at the repository root. Flags: --quick (fewer samples, and
 * memory only with the image's node flags), --container (also build and measure the image),
 * --no-build (use dist/ as it is).
 */

const args = new Set(process.argv.slice(2));
const quick = args.has("--quick");
const STAND_IN: StandInOptions = { firstTokenMs: 20, tokens: 10, tokenMs: 1 };

const plan = quick
  ? {
      levels: [lv(1, 2, 30), lv(16, 2, 64), lv(64, 2, 256)],
      long: [250, 1000],
      init: 50,
      cold: 3,
      churn: 2000,
      baselines: 1,
      withoutFlags: false,
      provider: [2, 100],
    }
  : {
      levels: [lv(1, 5, 60), lv(16, 5, 160), lv(64, 5, 640)],
      long: [250, 1000, 4000],
      init: 200,
      cold: 9,
      churn: 10_000,
      baselines: 3,
      withoutFlags: true,
      provider: [6, 200],
    };

function lv(concurrency: number, rounds: number, perRound: number): Level {
  return { concurrency, rounds, perRound };
}

function build(): void {
  if (args.has("--no-build")) return;
  log("building dist/ (tsc -p tsconfig.build.json)...");
  const result = spawnSync(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, "-p", "tsconfig.build.json"], { cwd: ROOT, encoding: "utf8" });
  if (result.status !== 0) log(`build reported errors (dist/ may be partly stale):\n${(result.stdout + result.stderr).slice(-1500)}`);
}

function machine(loadAtStart: number): BenchResults["machine"] {
  const git = (...a: string[]) => {
    try {
      return execFileSync("git", a, { cwd: ROOT, encoding: "utf8" }).trim();
    } catch {
      return "";
    }
  };
  const dirty = git("status", "--porcelain").split("\n").filter(Boolean).length;
  return {
    cpu: os.cpus()[0]?.model ?? "unknown",
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    commit: `${git("rev-parse", "--short", "HEAD") || "unknown"}${dirty ? ` (+${dirty} uncommitted changes)` : ""}`,
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    loadAverage: { atStart: round(loadAtStart), atEnd: round(os.loadavg()[0]!) },
  };
}

async function levels(list: Level[], paths: Path[], target: Target, label: string): Promise<LevelResult[]> {
  const out: LevelResult[] = [];
  for (const level of list) out.push(await runLevel(level, paths, target, label));
  return out;
}

/** The gateway and the bare pass-through side by side, against the same stand-in. */
async function gatewaySections(providerUrl: string, providerPid: number) {
  const gateway = await startGateway({ OLLAMA_BASE_URL: providerUrl });
  const started: Array<{ stop(): Promise<void> }> = [gateway];
  try {
    const proxy = await startPassThrough(providerUrl);
    started.push(proxy);
    const target: Target = {
      gateway: gateway.url,
      provider: providerUrl,
      model: benchModel(STAND_IN),
      gatewayPid: gateway.pid,
      providerPid,
      proxy: { url: proxy.url, pid: proxy.pid },
    };
    const paths: Path[] = ["direct", "proxy", "mcp", "sse"];
    log(`gateway overhead (${paths.join(", ")}; concurrency 1, 16, 64)...`);
    const overhead = await levels(plan.levels, paths, target, "");
    log("long answers...");
    const longAnswers = await runLongAnswers(target, plan.long, quick ? 3 : 5);
    return { overhead, longAnswers };
  } finally {
    await Promise.all(started.map((process) => process.stop()));
  }
}

/** Sections of BENCHMARKS.md that other commands write between `<!-- name:begin -->` and `<!-- name:end -->`: kept as they are. */
function keptSections(markdown: string): string[] {
  return [...markdown.matchAll(/<!-- ([\w-]+):begin -->[\s\S]*?<!-- \1:end -->/g)].map((m) => m[0]);
}

async function main(): Promise<void> {
  const started = performance.now();
  const loadAtStart = os.loadavg()[0]!;
  build();
  const standIn = await startStandIn(STAND_IN);
  try {
    log("provider client (openai SDK vs undici.request)...");
    const providerClient = await runProviderClient(standIn.url, plan.provider[0], plan.provider[1]);
    const { overhead, longAnswers } = await gatewaySections(standIn.url, standIn.pid);
    log("initialize...");
    const initialize = await runInitialize(standIn.url, plan.init);
    log("cold start...");
    const coldStart = await runColdStart(standIn.url, plan.cold);
    log("memory...");
    const memory = await runMemory(standIn.url, { churn: plan.churn, withImageFlags: true, baselineRepeats: plan.baselines });
    const memoryWithoutFlags = plan.withoutFlags
      ? { ...(await runMemory(standIn.url, { churn: plan.churn, withImageFlags: false, baselineRepeats: 0 })), flags: [...IMAGE_NODE_ARGS] }
      : undefined;
    const container = await runContainer(args.has("--container"));
    const ollamaUrl = (process.env.OLLAMA_BASE_URL ?? "http://127.0.0.1:11434").replace(/\/+$/, "");
    log(`real Ollama at ${ollamaUrl}?`);
    const ollama = await runOllama(ollamaUrl);
    const { PATH: _p, HOME: _h, ...env } = gatewayEnv({});
    const results: BenchResults = {
      machine: machine(loadAtStart),
      settings: {
        standIn: STAND_IN,
        gatewayEntry: serverEntry().kind,
        imageNodeArgs: [...IMAGE_NODE_ARGS],
        gatewayEnv: env as Record<string, string>,
        quick,
        durationSeconds: Math.round((performance.now() - started) / 1000),
      },
      overhead,
      providerClient,
      longAnswers,
      initialize,
      coldStart,
      memory,
      memoryWithoutFlags,
      container,
      ollama,
    };
    writeFileSync(`${ROOT}BENCHMARKS.json`, `${JSON.stringify(results, null, 2)}\n`);
    const previous = existsSync(`${ROOT}BENCHMARKS.md`) ? readFileSync(`${ROOT}BENCHMARKS.md`, "utf8") : "";
    writeFileSync(`${ROOT}BENCHMARKS.md`, renderReport(results, keptSections(previous)));
    log(`wrote BENCHMARKS.md and BENCHMARKS.json in ${results.settings.durationSeconds} s`);
  } finally {
    await standIn.stop();
  }
}

await main();
