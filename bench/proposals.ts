import type { BenchResults } from "./results.js";
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
      text: "Dockerfile `CMD` and package.json `start` — run `node --max-semi-space-size=4 dist/index.js` (or set NODE_OPTIONS): V8 otherwise grows the young generation to 64–128 MB on a large host, which shows in RSS at idle and after session churn (section 5, second column). The price is more frequent scavenges: ~8 % more gateway CPU per call at concurrency 64 in a side-by-side run. 8 MB cost ~3 % and saved ~14 MB at idle, but after the session churn it ranged from 300 MB to 427 MB across runs, where 4 MB stayed at 280–310 MB.",
    },
    {
      name: "compile cache",
      applied: a.compileCache,
      text: "Dockerfile — `ENV NODE_COMPILE_CACHE=/tmp/node-compile-cache` (a directory the `node` user can write), or a two-line src/index.ts that calls `module.enableCompileCache()` before it imports the server: Node then keeps V8's compiled code on disk between starts. Measured here side by side: 505 → 466 ms to healthy (p50 of 12 starts each).",
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
