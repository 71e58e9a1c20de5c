import { type Caller, directCaller, mcpCaller, type Sample } from "./clients.js";
import { startGateway } from "./procs.js";
import { log, median, round } from "./stats.js";

/** One model, through the gateway (ask_llm over /mcp) and direct (/api/chat, the request the gateway sends), medians of `calls` each. */
export type ModelRow = {
  model: string;
  loadMs: number | undefined;
  direct: { firstTokenMs: number; tokensPerSecond: number; totalMs: number };
  gateway: { firstTokenMs: number; tokensPerSecond: number; totalMs: number };
};

export type OllamaResult = { baseUrl: string; reachable: false; reason: string } | { baseUrl: string; reachable: true; version: string; models: ModelRow[] };

const PROMPT = "In three sentences, explain why the sky is blue.";

async function getJson(url: string, init: RequestInit = {}, timeoutMs = 1500): Promise<unknown> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return response.json();
}

/** Unloads the model, then loads it with Ollama's documented preload (an empty prompt): its load_duration. */
async function loadTime(baseUrl: string, model: string): Promise<number | undefined> {
  const post = (body: object) =>
    getJson(`${baseUrl}/api/generate`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }, 600_000);
  await post({ model, keep_alive: 0, stream: false });
  const loaded = (await post({ model, prompt: "", stream: false })) as { load_duration?: number };
  return loaded.load_duration === undefined ? undefined : round(loaded.load_duration / 1e6, 0);
}

function speeds(samples: Sample[]): { firstTokenMs: number; tokensPerSecond: number; totalMs: number } {
  const first = samples.map((s) => (s.firstAt === undefined ? s.ms : s.firstAt - s.startedAt));
  const rates = samples.map((s, i) => ((s.completionTokens ?? 0) > 1 ? (s.completionTokens! - 1) / ((s.ms - first[i]!) / 1000) : 0));
  return { firstTokenMs: round(median(first), 0), tokensPerSecond: round(median(rates), 1), totalMs: round(median(samples.map((s) => s.ms)), 0) };
}

async function measureModel(baseUrl: string, gatewayUrl: string, model: string, calls: number, maxTokens: number): Promise<ModelRow> {
  log(`  ollama ${model}: load time...`);
  const loadMs = await loadTime(baseUrl, model).catch(() => undefined);
  const callers: Record<"direct" | "gateway", Caller> = { direct: directCaller(`${baseUrl}`, model), gateway: await mcpCaller(gatewayUrl, "mcp", model) };
  const samples = { direct: [] as Sample[], gateway: [] as Sample[] };
  const args = { max_tokens: maxTokens, temperature: 0 };
  for (let i = 0; i < calls; i++) {
    for (const side of i % 2 ? (["gateway", "direct"] as const) : (["direct", "gateway"] as const)) {
      const sample = await callers[side].call(PROMPT, args);
      if (sample.ok) samples[side].push(sample);
    }
  }
  await callers.gateway.close();
  const row = { model, loadMs, direct: speeds(samples.direct), gateway: speeds(samples.gateway) };
  log(`  ollama ${model}: first token ${row.direct.firstTokenMs} ms direct / ${row.gateway.firstTokenMs} ms gateway`);
  return row;
}

/** Only when an Ollama answers /api/tags within 1.5 s; every installed model (or those named in BENCH_MODELS). */
export async function runOllama(baseUrl: string, calls = 3, maxTokens = 64): Promise<OllamaResult> {
  let tags: { models?: Array<{ name: string }> };
  let version = "?";
  try {
    tags = (await getJson(`${baseUrl}/api/tags`)) as typeof tags;
    version = ((await getJson(`${baseUrl}/api/version`).catch(() => ({}))) as { version?: string }).version ?? "?";
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return {
      baseUrl,
      reachable: false,
      reason: `no Ollama reachable at ${baseUrl} (${cause ?? (error instanceof Error ? error.message : String(error))}) — skipped`,
    };
  }
  const wanted = process.env.BENCH_MODELS?.split(",")
    .map((m) => m.trim())
    .filter(Boolean);
  const installed = (tags.models ?? []).map((m) => m.name).filter((name) => !wanted || wanted.includes(name));
  const gateway = await startGateway({ OLLAMA_BASE_URL: baseUrl });
  const models: ModelRow[] = [];
  try {
    for (const model of installed) models.push(await measureModel(baseUrl, gateway.url, model, calls, maxTokens));
  } finally {
    await gateway.stop();
  }
  return { baseUrl, reachable: true, version, models };
}
