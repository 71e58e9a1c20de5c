import { SETTLE_MS } from "./memory.js";
import type { LevelResult } from "./overhead.js";
import type { BenchResults, Verdict } from "./results.js";
import { mib } from "./stats.js";

const level = (levels: LevelResult[], c: number) => levels.find((l) => l.concurrency === c);
const ms = (value: number | undefined) => (value === undefined ? "—" : `${value} ms`);

function latencyVerdicts(r: BenchResults, path: "mcp" | "sse"): Verdict[] {
  const c1 = level(r.overhead, 1)?.added[path];
  const c64 = level(r.overhead, 64)?.throughputRatio[path];
  const name = path === "mcp" ? "/mcp" : "/sse";
  return [
    { id: `added-p50-${path}`, what: `Added latency p50, c=1, ${name}`, target: "≤ 1 ms", measured: ms(c1?.p50), pass: (c1?.p50 ?? Infinity) <= 1 },
    { id: `added-p99-${path}`, what: `Added latency p99, c=1, ${name}`, target: "≤ 5 ms", measured: ms(c1?.p99), pass: (c1?.p99 ?? Infinity) <= 5 },
    {
      id: `throughput-${path}`,
      what: `Throughput at c=64, ${name}, share of direct`,
      target: "≥ 90 %",
      measured: c64 === undefined ? "—" : `${Math.round(c64 * 1000) / 10} %`,
      pass: (c64 ?? 0) >= 0.9,
    },
  ];
}

function streamingVerdicts(r: BenchResults): Verdict[] {
  return (["mcp", "sse"] as const).map((path) => {
    const first = level(r.overhead, 1)?.paths[path]?.timeline?.firstAfterProviderMs;
    return {
      id: `first-progress-${path}`,
      what: `First progress notification after the provider's first token, p50, ${path === "mcp" ? "/mcp" : "/sse"}`,
      target: "≤ 2 ms",
      measured: first ? `${first.p50} ms (p95 ${first.p95} ms)` : "—",
      pass: (first?.p50 ?? Infinity) <= 2,
    };
  });
}

function startVerdicts(r: BenchResults): Verdict[] {
  const { stateful, stateless } = r.initialize;
  const cold = r.coldStart.toHealthyMs;
  return [
    {
      id: "init-stateful",
      what: "initialize, stateful, p50",
      target: "≤ 20 ms",
      measured: `${stateful.p50} ms (p95 ${stateful.p95} ms)`,
      pass: stateful.p50 <= 20,
    },
    {
      id: "init-stateless",
      what: "initialize, stateless, p50",
      target: "≤ 20 ms",
      measured: `${stateless.p50} ms (p95 ${stateless.p95} ms)`,
      pass: stateless.p50 <= 20,
    },
    {
      id: "cold-start",
      what: "Process start to first 200 from /health, p50 (code cache as in the image)",
      target: "≤ 500 ms",
      measured: `${Math.round(cold.p50)} ms (${Math.round(r.coldStart.toHealthyNoCacheMs.p50)} ms without)`,
      pass: cold.p50 <= 500,
    },
  ];
}

function memoryVerdicts(r: BenchResults): Verdict[] {
  const m = r.memory;
  const overFastmcp = m.idleBytes - m.fastmcpImportBytes;
  const ratio = m.afterChurnSettledBytes / m.churnedGatewayIdleBytes;
  return [
    {
      id: "idle-rss",
      what: "Idle RSS (median of 3 gateways) above a process that only imports fastmcp",
      target: "≤ 20 MB",
      measured: `${mib(overFastmcp)} MB (${mib(m.idleBytes)} vs ${mib(m.fastmcpImportBytes)} MB)`,
      pass: overFastmcp <= 20 * 1048576,
    },
    {
      id: "rss-churn",
      what: `RSS after ${m.churn.toLocaleString("en-US")} sessions opened and closed, idle ${SETTLE_MS / 1000} s, vs idle before`,
      target: "≤ 120 %",
      measured: `${Math.round(ratio * 100)} % (${mib(m.afterChurnSettledBytes)} vs ${mib(m.churnedGatewayIdleBytes)} MB; ${mib(m.afterChurnBytes)} MB 2 s after the burst)`,
      pass: ratio <= 1.2,
    },
  ];
}

export function verdicts(r: BenchResults): Verdict[] {
  return [...latencyVerdicts(r, "mcp"), ...latencyVerdicts(r, "sse"), ...streamingVerdicts(r), ...startVerdicts(r), ...memoryVerdicts(r)];
}
