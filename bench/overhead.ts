import { type Caller, callerFor, type Path, type Sample, type Target } from "./clients.js";
import { cpuMsOf } from "./procs.js";
import type { Mark } from "./standIn.js";
import { log, median, pool, round, type Summary, summarize } from "./stats.js";

export type Level = { concurrency: number; rounds: number; perRound: number };

/** CPU time per call in each process (ms): the one in the middle (the gateway or the pass-through), the bench process (the clients), the provider stand-in. */
export type CpuPerCall = { gateway: number; client: number; provider: number };

/**
 * Concurrency 1 only, from the provider stand-in's marks (ms). toProvider: call start to the
 * provider receiving the request. firstAfterProvider: the provider writing its first token to the
 * client seeing it (the first progress notification through the gateway, the first token chunk
 * direct). afterProviderEnd: the provider's last byte to the end of the call.
 */
export type Timeline = { toProviderMs: Summary; firstAfterProviderMs: Summary; afterProviderEndMs: Summary };

export type PathResult = { latency: Summary; throughputPerSecond: number[]; errors: number; cpuPerCallMs: CpuPerCall; timeline?: Timeline };

export type LevelResult = {
  concurrency: number;
  samplesPerPath: number;
  paths: Partial<Record<Path, PathResult>>;
  /** Gateway minus direct, per percentile, ms. */
  added: Partial<Record<Path, { p50: number; p95: number; p99: number }>>;
  /** Median over rounds of gateway throughput / direct throughput in the same round. */
  throughputRatio: Partial<Record<Path, number>>;
};

type Deltas = { toProvider: number[]; first: number[]; afterEnd: number[] };
type Raw = { samples: Sample[]; throughput: number[]; deltas: Deltas; cpu: CpuPerCall };

let counter = 0;
const newId = () => `b${process.pid}x${++counter}`;

function cpuNow(middlePid: number, target: Target): CpuPerCall {
  const own = process.cpuUsage();
  return { gateway: cpuMsOf(middlePid), client: (own.user + own.system) / 1000, provider: cpuMsOf(target.providerPid) };
}

async function runRound(path: Path, callers: Caller[], count: number, concurrency: number, target: Target) {
  const ids = Array.from({ length: count }, newId);
  const middlePid = path === "proxy" ? target.proxy!.pid : target.gatewayPid;
  const cpu0 = cpuNow(middlePid, target);
  const started = performance.now();
  const samples = await pool(count, concurrency, (i, w) => callers[w]!.call(`Benchmark request #${ids[i]}: answer briefly.`));
  const perSecond = count / ((performance.now() - started) / 1000);
  const cpu1 = cpuNow(middlePid, target);
  const cpu = { gateway: cpu1.gateway - cpu0.gateway, client: cpu1.client - cpu0.client, provider: cpu1.provider - cpu0.provider };
  return { samples, ids, perSecond, cpu };
}

/** The stand-in's marks for each call, matched against what the client saw. */
async function addDeltas(into: Deltas, providerUrl: string, samples: Sample[], ids: string[]): Promise<void> {
  for (const [i, sample] of samples.entries()) {
    const mark = (await (await fetch(`${providerUrl}/marks/${ids[i]}`)).json()) as Mark | null;
    if (!mark?.firstTokenAt || !mark.endAt || sample.firstAt === undefined) continue;
    into.toProvider.push(mark.receivedAt - sample.startedAt);
    into.first.push(sample.firstAt - mark.firstTokenAt);
    into.afterEnd.push(sample.startedAt + sample.ms - mark.endAt);
  }
}

async function openCallers(paths: Path[], count: number, target: Target): Promise<Record<string, Caller[]>> {
  const callers: Record<string, Caller[]> = {};
  for (const path of paths) callers[path] = await Promise.all(Array.from({ length: count }, () => callerFor(path, target)));
  return callers;
}

const emptyRaw = (): Raw => ({ samples: [], throughput: [], deltas: { toProvider: [], first: [], afterEnd: [] }, cpu: { gateway: 0, client: 0, provider: 0 } });

/** Runs one concurrency level: every path in every round, in rotating order, after a discarded warm-up round. */
export async function runLevel(level: Level, paths: Path[], target: Target, label = ""): Promise<LevelResult> {
  const { concurrency: c } = level;
  const callers = await openCallers(paths, c, target);
  const raw: Record<string, Raw> = Object.fromEntries(paths.map((p) => [p, emptyRaw()]));
  for (const path of paths) await runRound(path, callers[path]!, Math.max(2 * c, 30), c, target);
  for (let r = 0; r < level.rounds; r++) {
    const order = paths.map((_, i) => paths[(i + r) % paths.length]!);
    for (const path of order) {
      const result = await runRound(path, callers[path]!, level.perRound, c, target);
      const into = raw[path]!;
      into.samples.push(...result.samples);
      into.throughput.push(result.perSecond);
      for (const key of ["gateway", "client", "provider"] as const) into.cpu[key] += result.cpu[key];
      if (c === 1) await addDeltas(into.deltas, target.provider, result.samples, result.ids);
    }
    log(`  ${label}c=${c} round ${r + 1}/${level.rounds}: ${order.map((p) => `${p} ${Math.round(raw[p]!.throughput.at(-1)!)}/s`).join(", ")}`);
  }
  for (const list of Object.values(callers)) await Promise.all(list.map((caller) => caller.close()));
  return summarizeLevel(level, paths, raw);
}

function summarizePath(r: Raw): PathResult {
  const n = r.samples.length;
  return {
    latency: summarize(r.samples.map((s) => s.ms)),
    throughputPerSecond: r.throughput.map((t) => round(t, 1)),
    errors: r.samples.filter((s) => !s.ok).length,
    cpuPerCallMs: { gateway: round(r.cpu.gateway / n, 3), client: round(r.cpu.client / n, 3), provider: round(r.cpu.provider / n, 3) },
    ...(r.deltas.first.length > 0 && {
      timeline: {
        toProviderMs: summarize(r.deltas.toProvider),
        firstAfterProviderMs: summarize(r.deltas.first),
        afterProviderEndMs: summarize(r.deltas.afterEnd),
      },
    }),
  };
}

function summarizeLevel(level: Level, paths: Path[], raw: Record<string, Raw>): LevelResult {
  const result: LevelResult = { concurrency: level.concurrency, samplesPerPath: level.rounds * level.perRound, paths: {}, added: {}, throughputRatio: {} };
  for (const path of paths) result.paths[path] = summarizePath(raw[path]!);
  const direct = result.paths.direct;
  if (!direct) return result;
  for (const path of paths.filter((p) => p !== "direct")) {
    const gw = result.paths[path]!;
    result.added[path] = {
      p50: round(gw.latency.p50 - direct.latency.p50),
      p95: round(gw.latency.p95 - direct.latency.p95),
      p99: round(gw.latency.p99 - direct.latency.p99),
    };
    const ratios = raw[path]!.throughput.map((t, i) => t / raw.direct!.throughput[i]!);
    result.throughputRatio[path] = round(median(ratios), 3);
  }
  return result;
}
