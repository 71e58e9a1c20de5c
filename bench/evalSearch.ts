import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import dotenv from "dotenv";
import { loadConfig } from "../src/config.js";
import { createHttpClient } from "../src/llm/providers/httpClient.js";
import { OllamaProvider } from "../src/llm/providers/ollama.js";
import { Embedder } from "../src/services/docs/embedder.js";
import { Indexer } from "../src/services/docs/indexer.js";
import { type SearchHit, type SearchMode, searchChunks } from "../src/state/documentSearch.js";
import { DocumentStore } from "../src/state/documents.js";
import { StateStore } from "../src/state/store.js";
import { OllamaStandIn } from "../test/support/ollamaStandIn.js";
import { writeBenchSection } from "./sections.js";
import { log, round } from "./stats.js";

/**
 * `pnpm eval:search`: how well search finds the passage that answers a question. It indexes the
 * project's own documentation (bench/searchQuestions.json names the files) with the code
 * `pnpm index` runs, asks each labelled question by meaning alone, by keywords alone and by both
 * (what search_docs does), and reports recall@5 (the share of questions with an answering passage
 * in the top five) and MRR (the mean of 1/rank of the first answering passage, in the top ten).
 * With Ollama at OLLAMA_BASE_URL and EMBED_MODEL pulled it uses that model; otherwise (or with
 * --stand-in) the test stand-in's hashed bag of words, which still runs everything end to end.
 * Writes its section of BENCHMARKS.md (between the search-eval markers).
 */

type Relevant = { file: string; heading: string };
type Question = { q: string; relevant: Relevant[] };
type Labels = { files: string[]; questions: Question[] };

const ROOT = new URL("..", import.meta.url).pathname;
const MODES: SearchMode[] = ["vector", "keyword", "hybrid"];
const DEPTH = 10;

function answers(hit: SearchHit, relevant: Relevant[]): boolean {
  return relevant.some((r) => basename(hit.source) === r.file && hit.heading.toLowerCase().includes(r.heading.toLowerCase()));
}

/** Ollama if it answers with the model; else the stand-in, said so. */
async function embedding(baseUrl: string, model: string, forceStandIn: boolean): Promise<{ baseUrl: string; label: string; stop(): Promise<void> }> {
  if (!forceStandIn) {
    const reachable = await fetch(`${baseUrl}/api/show`, { method: "POST", body: JSON.stringify({ model }), signal: AbortSignal.timeout(3_000) }).then(
      (response) => response.ok,
      () => false,
    );
    if (reachable) return { baseUrl, label: `${model} on Ollama at ${baseUrl}`, stop: async () => undefined };
    log(`no Ollama with ${model} at ${baseUrl}: using the test stand-in's embeddings (hashed bag of words)`);
  }
  const standIn = await new OllamaStandIn().start();
  return { baseUrl: standIn.baseUrl, label: "the test stand-in (hashed bag of words, not a model)", stop: () => standIn.stop() };
}

type Score = { mode: SearchMode; recallAt5: number; mrr: number; misses: string[] };

async function evaluate(store: StateStore, embedder: Embedder, questions: Question[]): Promise<Score[]> {
  const spaces = await new DocumentStore(store).spaces();
  const space = spaces[0]!;
  const scores: Score[] = [];
  for (const mode of MODES) {
    let found = 0;
    let reciprocal = 0;
    const misses: string[] = [];
    for (const question of questions) {
      const vector = mode === "keyword" ? undefined : (await embedder.embedQuery(question.q, undefined, "eval")).vector;
      const hits = await searchChunks(store, { space, text: question.q, vector, owner: "eval", topN: DEPTH, mode });
      const rank = hits.findIndex((hit) => answers(hit, question.relevant)) + 1;
      if (rank >= 1 && rank <= 5) found++;
      else misses.push(question.q);
      if (rank >= 1) reciprocal += 1 / rank;
    }
    scores.push({ mode, recallAt5: round(found / questions.length, 3), mrr: round(reciprocal / questions.length, 3), misses });
  }
  return scores;
}

function section(scores: Score[], labels: Labels, embedded: string, chunks: number): string {
  const names: Record<SearchMode, string> = { vector: "by meaning (vector)", keyword: "by keywords", hybrid: "hybrid (search_docs)" };
  return [
    "## Document search quality (`pnpm eval:search`)",
    "",
    `Measured by bench/evalSearch.ts on ${new Date().toISOString().slice(0, 10)}: ${labels.questions.length} labelled questions (bench/searchQuestions.json) over ${labels.files.join(", ")} (${chunks} chunks), embedded with ${embedded}.`,
    "",
    "| ranking | recall@5 | MRR@10 |",
    "| --- | --- | --- |",
    ...scores.map((s) => `| ${names[s.mode]} | ${s.recallAt5} | ${s.mrr} |`),
    "",
    `Missed by hybrid ranking (no answering passage in the top five): ${
      scores
        .find((s) => s.mode === "hybrid")!
        .misses.map((q) => `"${q}"`)
        .join(", ") || "none"
    }.`,
  ].join("\n");
}

async function main(): Promise<void> {
  dotenv.config({ quiet: true, path: join(ROOT, ".env") });
  const config = loadConfig({ ...process.env, MCP_TRANSPORT: "stdio" });
  const labels = JSON.parse(readFileSync(join(ROOT, "bench/searchQuestions.json"), "utf8")) as Labels;
  const source = await embedding(config.ollama.baseUrl, config.docs.embedModel, process.argv.includes("--stand-in"));
  const dataDir = mkdtempSync(join(tmpdir(), "mcp-lab-eval-"));
  const store = new StateStore({ dataDir, databaseUrl: undefined, onPoolError: () => undefined });
  const http = createHttpClient({ connectTimeoutMs: 5_000 });
  const limits = { firstTokenMs: 300_000, idleMs: 120_000, totalMs: 600_000 };
  const embedder = new Embedder({
    ollama: new OllamaProvider({ baseUrl: source.baseUrl, http, limits, pullLimits: limits }),
    model: config.docs.embedModel,
    dimensions: config.docs.embedDimensions,
  });
  try {
    log(`indexing ${labels.files.join(", ")}...`);
    const indexed = await new Indexer(new DocumentStore(store), embedder, () => undefined).run({
      paths: labels.files.map((file) => join(ROOT, file)),
      prune: false,
      maxDocumentBytes: config.docs.maxDocumentBytes,
      maxFiles: 100,
      signal: new AbortController().signal,
    });
    log(`asking ${labels.questions.length} questions three ways...`);
    const scores = await evaluate(store, embedder, labels.questions);
    const text = section(scores, labels, source.label, indexed.chunks);
    if (!process.argv.includes("--no-write")) writeBenchSection("search-eval", text);
    process.stdout.write(`${text}\n`);
  } finally {
    await store.close();
    await http.close();
    await source.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
