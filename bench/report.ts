import type { Path } from "./clients.js";
import { SETTLE_MS } from "./memory.js";
import type { LevelResult } from "./overhead.js";
import type { BenchResults } from "./results.js";
import { mib, signed } from "./stats.js";
import { verdicts } from "./targets.js";

const table = (head: string[], rows: Array<Array<string | number>>) =>
  [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
const NAMES: Record<Path, string> = {
  direct: "direct to provider",
  proxy: "bare pass-through (floor)",
  mcp: "gateway /mcp",
  sse: "gateway /sse",
};
const IMAGE_FLAGS = (r: BenchResults) => r.settings.imageNodeArgs.join(" ") || "(none)";
const perSecond = (xs: number[]) => Math.round([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!);

function header(r: BenchResults): string {
  const m = r.machine;
  return [
    "# Benchmarks",
    "",
    `Written by \`pnpm bench\` (bench/run.ts) on ${m.date}${r.settings.quick ? " — **quick run (fewer samples)**" : ""}; the raw numbers are in BENCHMARKS.json.`,
    "",
    table(
      ["machine", ""],
      [
        ["CPU", `${m.cpu}, ${m.cores} cores`],
        ["memory", `${m.memoryGiB} GiB`],
        ["Node.js", m.node],
        ["OS", m.os],
        ["commit", m.commit],
        ["run time", `${r.settings.durationSeconds ?? "?"} s`],
        ["load average (1 min) before / after the run", `${m.loadAverage.atStart} / ${m.loadAverage.atEnd}`],
      ],
    ),
    "",
    "Every comparison runs both sides in the same run, on the same machine, alternating in rounds; numbers are medians and percentiles over all samples, not single times.",
  ].join("\n");
}

function summary(r: BenchResults): string {
  const rows = verdicts(r).map((v) => [v.what, v.target, v.measured, v.pass ? "PASS" : "**MISS**"]);
  return ["## Targets", "", table(["target", "goal", "measured", ""], rows)].join("\n");
}

function reproduce(r: BenchResults): string {
  const env = Object.entries(r.settings.gatewayEnv)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  return [
    "## How to reproduce",
    "",
    "```console",
    "pnpm install",
    "pnpm bench                # builds dist/, runs every section (~4 min on 2 cores), writes BENCHMARKS.md and BENCHMARKS.json",
    "pnpm bench --quick        # fewer samples and no memory run without the image's flags (~2 min), for a smoke test",
    "pnpm bench --container    # also builds the image and measures it (../shared/tools/container-check, podman)",
    "OLLAMA_BASE_URL=http://gpu-box:11434 pnpm bench     # measures every model that Ollama has installed (default URL: http://127.0.0.1:11434)",
    "```",
    "",
    `The gateway under test is the real server in its own process, started as the image starts it: \`${r.settings.gatewayEntry}\` with ${env}, on a free loopback port.`,
    `The provider is bench/standIn.ts, also its own process, speaking Ollama's native API: POST /api/chat streamed as NDJSON, first token after ${r.settings.standIn.firstTokenMs} ms, then ${r.settings.standIn.tokens} tokens ${r.settings.standIn.tokenMs} ms apart, then the \`done\` line with the counts.`,
    "The client is the official MCP SDK (`@modelcontextprotocol/sdk`) in the bench process, one session per concurrent caller, sending a progress token; the direct call is the request the gateway sends to Ollama (POST /api/chat with model, messages and stream: true) sent straight to the stand-in with the HTTP client the SDK uses (Node's fetch), its NDJSON lines parsed.",
  ].join("\n");
}

function levelTable(level: LevelResult): string {
  const rows = (Object.keys(level.paths) as Path[]).map((path) => {
    const p = level.paths[path]!;
    const added = level.added[path];
    const ratio = level.throughputRatio[path];
    const cpu = p.cpuPerCallMs;
    return [
      NAMES[path],
      `${p.latency.p50} / ${p.latency.p95} / ${p.latency.p99}`,
      added ? `${added.p50} / ${added.p95} / ${added.p99}` : "—",
      perSecond(p.throughputPerSecond),
      ratio === undefined ? "—" : `${Math.round(ratio * 1000) / 10} %`,
      `${cpu.gateway} / ${cpu.client} / ${cpu.provider}`,
      p.errors,
    ];
  });
  const head = [
    "path",
    "latency p50 / p95 / p99 (ms)",
    "added p50 / p95 / p99 (ms)",
    "calls/s",
    "of direct",
    "CPU ms per call: middle / client / provider",
    "errors",
  ];
  return [`**Concurrency ${level.concurrency}** — ${level.samplesPerPath} calls per path`, "", table(head, rows)].join("\n");
}

function timelineTable(level: LevelResult | undefined): string {
  if (!level) return "";
  const rows = (Object.keys(level.paths) as Path[]).flatMap((path) => {
    const t = level.paths[path]!.timeline;
    return t ? [[NAMES[path], t.toProviderMs.p50, t.firstAfterProviderMs.p50, t.afterProviderEndMs.p50]] : [];
  });
  return [
    "Where the time goes at concurrency 1 (p50, ms, from the stand-in's own clock marks):",
    "",
    table(["path", "call start → provider has the request", "provider's first token → client sees it", "provider's last byte → call returns"], rows),
  ].join("\n");
}

function overhead(r: BenchResults): string {
  const note = [
    "*bare pass-through (floor)*: the same direct request through bench/passThrough.ts, a node:http process that only pipes bytes to the provider — what any process in the middle costs on this machine.",
    "*added* = gateway percentile minus direct percentile, each over its own samples; within noise it can come out negative.",
    "*CPU ms per call*: middle = the gateway (or the pass-through), client = the bench process, provider = the stand-in. At concurrency 1 every process sleeps between tokens (1 ms apart) and pays a wake-up for each, so its CPU per call is several times the steady-state figure at 64, the direct path's included.",
  ];
  return [
    "## 1. Gateway overhead: ask_llm through MCP vs. the same request direct",
    "",
    ...note,
    "",
    ...r.overhead.flatMap((l) => [levelTable(l), ""]),
    timelineTable(r.overhead.find((l) => l.concurrency === 1)),
  ].join("\n");
}

function streaming(r: BenchResults): string {
  const c1 = r.overhead.find((l) => l.concurrency === 1);
  const rows = (["direct", "proxy", "mcp", "sse"] as const).flatMap((path) => {
    const t = c1?.paths[path]?.timeline?.firstAfterProviderMs;
    return t ? [[NAMES[path], path === "direct" || path === "proxy" ? "first token chunk" : "first notifications/progress", t.p50, t.p95, t.p99]] : [];
  });
  const long = r.longAnswers.map((row) => [row.tokens, row.directP50Ms, row.mcpP50Ms, row.addedP50Ms, row.gatewayCpuPerCallMs]);
  return [
    "## 2. Streaming: first progress notification vs. the provider's first token",
    "",
    "Time from the stand-in writing its first token to the client seeing it, at concurrency 1 (same clock: CLOCK_MONOTONIC in both processes).",
    "",
    table(["path", "what the client sees", "p50 (ms)", "p95 (ms)", "p99 (ms)"], rows),
    "",
    "Long answers (no target; tokens streamed with no delay, ask_llm over /mcp with a progress token, medians):",
    "",
    table(["tokens", "direct (ms)", "gateway (ms)", "added (ms)", "gateway CPU per call (ms)"], long),
  ].join("\n");
}

const pct = (x: { p50: number; p95: number; p99: number }) => [Math.round(x.p50 * 100) / 100, Math.round(x.p95 * 100) / 100, Math.round(x.p99 * 100) / 100];

function initializeSection(r: BenchResults): string {
  const i = r.initialize;
  return [
    "## 3. initialize latency",
    "",
    `POST /mcp \`initialize\`, the whole answer read, ${i.stateful.n} samples per mode, alternating a stateful and a stateless gateway (stateful sessions closed with DELETE after each sample, untimed). Every fourth round also times the whole handshake a client waits for before its first answer: the SDK's connect() (initialize + notifications/initialized) and a tools/list (${i.handshake.stateful.n} samples per mode).`,
    "",
    table(
      ["mode", "p50 (ms)", "p95 (ms)", "p99 (ms)"],
      [
        ["initialize, stateful (default)", ...pct(i.stateful)],
        ["initialize, stateless (MCP_STATELESS=true)", ...pct(i.stateless)],
        ["connect + tools/list, stateful", ...pct(i.handshake.stateful)],
        ["connect + tools/list, stateless", ...pct(i.handshake.stateless)],
      ],
    ),
  ].join("\n");
}

function coldStartSection(r: BenchResults): string {
  const c = r.coldStart;
  return [
    "## 4. Cold start",
    "",
    `\`${c.entry}\` spawned with PORT=0: time to its "serving" log line, and to the first 200 from /health (${c.toHealthyMs.n} runs of each, alternating, after one discarded run that warms the page cache). As in the image, V8's code cache (NODE_COMPILE_CACHE) is compiled beforehand by importing dist/main.js; the run without it is the first start on a machine outside the image. References in the same run: a bare \`node\`, and \`node\` importing fastmcp only.`,
    "",
    table(
      ["what", "p50 (ms)", "p95 (ms)", "p99 (ms)"],
      [
        ["gateway: spawn → listening", ...pct(c.toListeningMs)],
        ["gateway: spawn → /health 200", ...pct(c.toHealthyMs)],
        ["gateway without a code cache: spawn → /health 200", ...pct(c.toHealthyNoCacheMs)],
        ["`node -e ''`", ...pct(c.bareNodeMs)],
        ["`node` importing fastmcp", ...pct(c.fastmcpImportMs)],
      ],
    ),
  ].join("\n");
}

function memory(r: BenchResults): string {
  const m = r.memory;
  const p = r.memoryWithoutFlags;
  const flags = IMAGE_FLAGS(r);
  const row = (what: string, a: number, b: number | undefined) => [what, mib(a), b === undefined || Number.isNaN(b) ? "—" : mib(b)];
  const deps = Object.entries(m.importWithFastmcpBytes)
    .map(([dep, bytes]) => `${dep} ${signed(mib(bytes - m.fastmcpImportBytes))} MB`)
    .join(", ");
  const churn = m.churn.toLocaleString("en-US");
  return [
    "## 5. Memory (RSS, VmRSS from /proc)",
    "",
    `Sessions are streamable-HTTP sessions opened with raw HTTP (initialize + notifications/initialized), 16 at a time, closed with DELETE. The gateway runs with the image's node flags (${flags}); ${p ? "the last column is the same gateway started without them" : "a --quick run does not measure it without them"}.`,
    "",
    table(
      ["state", "RSS (MB)", `RSS without ${flags} (MB)`],
      [
        row("bare `node`", m.bareNodeBytes, undefined),
        row("`node` importing fastmcp only", m.fastmcpImportBytes, undefined),
        row("gateway idle (median of 3 fresh gateways)", m.idleBytes, p?.idleBytes),
        row("gateway idle (the one the sessions ran against)", m.churnedGatewayIdleBytes, p?.churnedGatewayIdleBytes),
        row("gateway, 1,000 sessions open", m.with1000OpenBytes, p?.with1000OpenBytes),
        row("gateway, those 1,000 closed", m.after1000ClosedBytes, p?.after1000ClosedBytes),
        row(`gateway, 2 s after ${churn} more opened and closed`, m.afterChurnBytes, p?.afterChurnBytes),
        row(`gateway, idle ${SETTLE_MS / 1000} s after that`, m.afterChurnSettledBytes, p?.afterChurnSettledBytes),
      ],
    ),
    "",
    `The server's own mcp_open_sessions gauge read ${m.openSessionsReported.with1000Open} with the 1,000 open and ${m.openSessionsReported.afterChurn} after the churn. Sessions opened and closed per second during the churn: ${m.sessionsPerSecond}${p ? ` (${p.sessionsPerSecond} without the flags)` : ""}. RSS of a \`node\` importing fastmcp and one more dependency, minus fastmcp alone: ${deps}.`,
  ].join("\n");
}

function container(r: BenchResults): string {
  const c = r.container;
  if (!c.measured) return ["## 6. Image size and container cold start", "", c.reason].join("\n");
  const rows = [
    ["image size", `${c.imageMiB} MiB`],
    ["above the base image (node:24-slim)", `${c.aboveBaseMiB} MiB`],
    ["`podman run` → /health 200", c.toHealthyMs === undefined ? "—" : `${c.toHealthyMs} ms (probed every 100 ms with curl, so up to ~150 ms coarse)`],
  ];
  return [
    "## 6. Image size and container cold start",
    "",
    "Measured with ../shared/tools/container-check (podman, local stand-in for node:24-slim).",
    "",
    table(["what", "value"], rows),
  ].join("\n");
}

function models(r: BenchResults): string {
  const o = r.ollama;
  if (!o.reachable)
    return [
      "## 7. Models on a real Ollama",
      "",
      o.reason,
      "",
      "Run with `OLLAMA_BASE_URL=http://host:11434 pnpm bench` where Ollama runs (BENCH_MODELS=a,b limits the models).",
    ].join("\n");
  const rows = o.models.map((m) => [
    m.model,
    m.loadMs ?? "—",
    m.direct.firstTokenMs,
    m.gateway.firstTokenMs,
    m.direct.tokensPerSecond,
    m.gateway.tokensPerSecond,
    m.direct.totalMs,
    m.gateway.totalMs,
  ]);
  return [
    "## 7. Models on a real Ollama",
    "",
    `Ollama ${o.version} at ${o.baseUrl}. Load time: Ollama's load_duration after an unload; then alternating direct (/api/chat, the request the gateway sends) and gateway (ask_llm over /mcp) calls, max_tokens 64 (num_predict), temperature 0; medians. First token counts reasoning tokens too.`,
    "",
    table(
      [
        "model",
        "load (ms)",
        "first token direct (ms)",
        "first token gateway (ms)",
        "tokens/s direct",
        "tokens/s gateway",
        "total direct (ms)",
        "total gateway (ms)",
      ],
      rows,
    ),
  ].join("\n");
}

function cloudClient(r: BenchResults): string {
  const p = r.providerClient;
  return [
    "## 8. Client for cloud providers: the openai SDK vs. undici.request",
    "",
    `Measured in the bench process, not through the gateway: ${p.calls} streamed chat completions (10 tokens, no delay) each way, alternating in rounds, against the stand-in's OpenAI-style /v1/chat/completions route (which exists for this section only): through the openai SDK over undici's fetch with a keep-alive Agent, the way the gateway calls OpenAI-compatible cloud providers, and through undici.request on the same Agent with a 20-line SSE parser. Ollama is not called this way.`,
    "",
    table(
      ["client", "p50 per call (ms)", "CPU per call (ms)"],
      [
        ["openai SDK (undici fetch)", p.sdk.p50Ms, p.sdk.cpuPerCallMs],
        ["undici.request + SSE parser", p.plain.p50Ms, p.plain.cpuPerCallMs],
      ],
    ),
  ].join("\n");
}

/** The whole of BENCHMARKS.md: this run's sections, then `kept` (sections other commands wrote there) as they were. */
export function renderReport(r: BenchResults, kept: string[] = []): string {
  const parts = [
    header(r),
    summary(r),
    reproduce(r),
    overhead(r),
    streaming(r),
    initializeSection(r),
    coldStartSection(r),
    memory(r),
    container(r),
    models(r),
    cloudClient(r),
    ...kept,
  ];
  return `${parts.filter(Boolean).join("\n\n")}\n`;
}
