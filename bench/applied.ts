import { existsSync, readFileSync } from "node:fs";
import type { LongAnswerRow } from "./longAnswer.js";
import type { MemoryResult } from "./memory.js";
import { ROOT } from "./procs.js";

/**
 * Which of the changes this benchmark proposes are in the tree it measured, judged from the
 * files and from the run's own numbers, so the report says "applied" or "proposed" truthfully.
 */
export type Applied = {
  /** patches/fastmcp: no `await delay(1)` after every tool call. */
  fastmcpToolDelay: boolean;
  /** Progress messages no longer cost more per token as the answer grows. */
  progressLinear: boolean;
  /** No unstructured lines from dependencies on the server's stderr. */
  quietDependencies: boolean;
  /** Ollama is reached through our own streaming client (src/llm/chatCompletions.ts), not the openai SDK. */
  ownProviderClient: boolean;
  /** The image / start script caps V8's young generation. */
  semiSpaceCapped: boolean;
  /** Node's on-disk compile cache is on (Dockerfile or src/index.ts). */
  compileCache: boolean;
  /** src/index.ts keeps V8's memory reducer working (src/memoryReducer.ts). */
  memoryReducer: boolean;
  /** The streamable transport keeps no per-session event store. */
  noEventStore: boolean;
};

const read = (file: string) => (existsSync(`${ROOT}${file}`) ? readFileSync(`${ROOT}${file}`, "utf8") : "");

/** CPU per token of the longest answer within 2.5× that of the shortest: linear, not quadratic. */
function linear(rows: LongAnswerRow[]): boolean {
  const first = rows[0];
  const last = rows.at(-1);
  if (!first || !last || first === last) return false;
  return last.gatewayCpuPerCallMs / last.tokens <= 2.5 * (first.gatewayCpuPerCallMs / first.tokens);
}

export function detectApplied(fastmcpStillDelays: boolean, longAnswers: LongAnswerRow[], memory: MemoryResult): Applied {
  const manifest = JSON.parse(read("package.json") || "{}") as { dependencies?: Record<string, string>; scripts?: Record<string, string> };
  return {
    fastmcpToolDelay: !fastmcpStillDelays,
    progressLinear: linear(longAnswers),
    quietDependencies: memory.rawStderrLines === 0,
    ownProviderClient: read("src/llm/chatCompletions.ts") !== "" && !/from "openai"/.test(read("src/llm/ollama.ts")),
    semiSpaceCapped: /max-semi-space-size/.test(read("Dockerfile")) || /max-semi-space-size/.test(manifest.scripts?.start ?? ""),
    compileCache: /NODE_COMPILE_CACHE/.test(read("Dockerfile")) || /enableCompileCache/.test(read("src/index.ts")),
    memoryReducer: /keepMemoryReducerWorking\(/.test(read("src/index.ts")),
    noEventStore: /eventStore: false/.test(read("src/http/listener.ts")),
  };
}
