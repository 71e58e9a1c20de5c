import type { BenchResults } from "./results.js";
import { SETTLE_MS } from "./memory.js";
import { mib } from "./stats.js";

const mibOf = (r: BenchResults, dep: string) => mib((r.memory.importWithFastmcpBytes[dep] ?? Number.NaN) - r.memory.fastmcpImportBytes);

/** The changes the benchmark's findings call for, each marked applied (found in the measured tree) or proposed. */
export function proposals(r: BenchResults): string {
  const a = r.applied;
  const long = r.longAnswers.at(-1);
  const before = a.progressLinear ? " (235–283 ms for 4,000 tokens before the change, in this benchmark's first runs)" : "";
  const longNote = long ? ` In this run a ${long.tokens}-token answer cost ${long.gatewayCpuPerCallMs} ms of gateway CPU per call${before} (section 2).` : "";
  const items: Array<{ name: string; applied: boolean; text: string }> = [
    {
      name: "fastmcp tool delay",
      applied: a.fastmcpToolDelay,
      text: "patches/fastmcp@4.20.16.patch — in `dist/chunk-ZNPHP74O.js` (the ESM build we load), replace `await delay(1);` after the tool's `execute` with `await new Promise((resolve) => setImmediate(resolve));` (the CommonJS twin is `await _promises3.setTimeout.call(void 0, 1)` in `dist/chunk-CE5MU4DQ.cjs`). Notifications sent during the call are already queued ahead of the result; the yield keeps that order without a timer tick on every call. Preview: bench/preview/fastmcp-no-tool-delay.mjs (the bench runs it side by side while the installed fastmcp still has the delay).",
    },
    {
      name: "progress tail",
      applied: a.progressLinear,
      text: `src/tools/askLlm.ts, src/tools/progress.ts — \`onDelta\` built \`tail(streamed)\` (a whitespace regex over the whole answer so far) on every token, even when the throttle dropped it: quadratic in the answer length; a --cpu-prof profile of 3,000-token answers put 47 % of the gateway's CPU in \`tail\` and 13 % more in its regex. Build the message only when a notification is sent.${longNote}`,
    },
    {
      name: "dependency console",
      applied: a.quietDependencies,
      text: `src/index.ts — dependencies' console.log/info/debug went to \`console.error\` unconditionally: mcp-proxy prints lines such as "[mcp-proxy] establishing new SSE stream…" for every session, at every LOG_LEVEL. Send them to the pino logger at debug level. This run counted ${r.memory.rawStderrLines} such lines from the gateway that served the session churn.`,
    },
    {
      name: "provider client",
      applied: a.ownProviderClient,
      text: `src/llm/chatCompletions.ts, src/llm/sse.ts, src/llm/ollama.ts — stream Ollama's chat completions with \`undici.request\` on the existing keep-alive Agent (src/llm/http.ts) and a small SSE parser, as src/llm/ndjson.ts already did for Ollama's native API; keep the openai SDK for cloud providers (it follows their API as it changes; a network round trip dwarfs its cost there) and load it on the first cloud call. In this run's micro-benchmark (section 1, provider client) the SDK cost ${r.providerClient.sdk.cpuPerCallMs} ms of CPU per 10-token call against ${r.providerClient.plain.cpuPerCallMs} ms, and importing it costs ${mibOf(r, "openai")} MB of RSS (section 5), which a server without OPENAI_API_KEY no longer pays.`,
    },
    {
      name: "young generation",
      applied: a.semiSpaceCapped,
      text: "Dockerfile `CMD` — run `node --max-semi-space-size=4 dist/index.js` (or set NODE_OPTIONS): V8 otherwise grows the young generation to 64–128 MB on a large host, which shows in RSS at idle and after session churn (section 5, last column: without it). The benchmark runs the gateway with the CMD's flags. The price is more frequent scavenges: ~8 % more gateway CPU per call at concurrency 64 in a side-by-side run. 8 MB cost ~3 % and saved ~14 MB at idle, but after the session churn it ranged from 300 MB to 427 MB across runs, where 4 MB stayed at 280–310 MB.",
    },
    {
      name: "compile cache",
      applied: a.compileCache,
      text: `Dockerfile — \`ENV NODE_COMPILE_CACHE=/app/node-compile-cache\`, filled at build time by importing dist/main.js as the \`node\` user with CMD's flags (V8 keys the cache on user and flags), then made read-only: Node keeps V8's compiled code on disk, so every new container starts with it. In this run: ${Math.round(r.coldStart.toHealthyMs.p50)} ms to healthy with it, ${Math.round(r.coldStart.toHealthyNoCacheMs.p50)} ms without (section 4); inside the image, NODE_DEBUG_NATIVE=COMPILE_CACHE showed 567 modules accepted from it.`,
    },
    {
      name: "memory reducer",
      applied: a.memoryReducer,
      text: `src/memoryReducer.ts, called from src/index.ts — compile an empty \`vm.Script\` every 5 s (an unref'd timer). V8's memory reducer, the GC that gives freed heap pages back when a process goes quiet, only starts when the allocation rate looks low, and in Node 24 (V8 13.x) that rate includes the embedder's C++ heap (cppgc): a process that never allocates there reads as allocating at full speed (\`--trace-memory-reducer\` printed "high alloc" every 8 s on a fully idle gateway), so RSS stayed at its peak for ~100 s, until a watchdog fired — and any major GC in between postpones that again. A vm.Script is a tiny cppgc allocation. Found with smaps (the extra RSS was 256 kB V8 pages: old space mostly empty after a GC, plus V8's page pool; glibc held ~20 MB of it), after malloc tuning, jemalloc, tcmalloc, --max-old-space-size and forced GCs were measured and ruled out. In this run: ${mib(r.memory.after10000OpenedClosedBytes)} MB 2 s after the 10,000 sessions, ${mib(r.memory.after10000SettledBytes)} MB ${SETTLE_MS / 1000} s later (section 5); test/memoryReducer.test.ts fails without it (721 MB kept against 63 MB).`,
    },
    {
      name: "event store",
      applied: a.noEventStore,
      text: "src/http/listener.ts (and patches/fastmcp@4.20.16.patch, which types it) — pass `eventStore: false`: mcp-proxy otherwise gives every streamable session an InMemoryEventStore that keeps its last 1,000 messages, answers included, so a dropped stream could be replayed with Last-Event-ID; this server cancels a call whose connection drops, so there is nothing to replay. Measured while writing this: 20 sessions × 800 ask_llm calls (10-token answers) held 66.5 MB of live heap with the store and 49.0 MB without; with real answers the difference grows with their length.",
    },
  ];
  const line = (item: (typeof items)[number]) => `- **${item.name}** — ${item.text}`;
  return [
    "## Proposed changes",
    "",
    "Each backed by a measurement above. The benchmark only measures; it changes nothing in src/.",
    "",
    "Still proposed:",
    "",
    ...(items.some((i) => !i.applied) ? items.filter((i) => !i.applied).map(line) : ["- (none)"]),
    "",
    "Already applied in the tree this run measured (found by this benchmark, kept here with their evidence):",
    "",
    ...(items.some((i) => i.applied) ? items.filter((i) => i.applied).map(line) : ["- (none)"]),
  ].join("\n");
}
