import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import os, { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { ensureVectorExtension, ensureVectorIndex, type Space } from "../src/state/documentIndex.js";
import { type SearchMode, searchChunks } from "../src/state/documentSearch.js";
import { DocumentStore, SHARED } from "../src/state/documents.js";
import { StateStore } from "../src/state/store.js";
import { freePort } from "../test/support/ports.js";
import { CHUNKS_PER_DOCUMENT, type Corpus, corpus } from "./searchCorpus.js";
import { writeBenchSection } from "./sections.js";
import { log, mib, percentile, round } from "./stats.js";

/**
 * `pnpm bench:search`: the document store at 10,000 and 100,000 chunks of 768 dimensions, on the
 * embedded store (PGlite in process) and over the PostgreSQL wire protocol (the same data served by
 * pglite-socket, through the pg driver: DATABASE_URL's path). It measures what `pnpm index` costs
 * besides the embedding (writing chunks, building the HNSW index, adding to it), search latency
 * (hybrid, and each half alone), memory, and whether the top five stay on the question's topic.
 * Writes its section of BENCHMARKS.md (between the search markers). Flags: --quick (10,000 only),
 * --sizes 10000,100000, --queries N.
 */

const argv = process.argv.slice(2);
const flag = (name: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const quick = argv.includes("--quick");
const SIZES = (flag("--sizes") ?? (quick ? "10000" : "10000,100000")).split(",").map(Number);
const QUERIES = Number(flag("--queries") ?? (quick ? 100 : 300));
const DIMENSIONS = 768;
const TOP_N = 5;
const WARM_UP = 20;

type Latency = { p50: number; p95: number; max: number };
type SizeResult = {
  chunks: number;
  writeChunksPerSecond: number;
  indexBuildSeconds: number;
  addChunksPerSecond: number;
  embedded: Record<SearchMode, Latency>;
  wire: Latency;
  onTopic: number;
  rssMiB: { afterLoad: number; afterSearch: number };
  diskMiB: number;
};

const latency = (ms: number[]): Latency => ({ p50: round(percentile(ms, 50), 1), p95: round(percentile(ms, 95), 1), max: round(Math.max(...ms), 1) });
const rss = () => mib(process.memoryUsage().rss);

async function load(docs: DocumentStore, space: Space, data: Corpus, from: number, to: number): Promise<number> {
  const started = performance.now();
  for (let first = from; first < to; first += CHUNKS_PER_DOCUMENT) {
    const chunks = Array.from({ length: Math.min(CHUNKS_PER_DOCUMENT, to - first) }, (_, i) => data.chunk(first + i));
    const number = first / CHUNKS_PER_DOCUMENT;
    const content = chunks.map((c) => c.body).join("\n\n");
    await docs.replace(
      { owner: SHARED, source: `/bench/doc${number}.md`, section: `s${number % 10}`, title: `Document ${number}`, content, contentHash: String(number) },
      chunks,
      space,
    );
    if (number % 500 === 0) log(`  ${first + chunks.length} chunks written`);
  }
  return (to - from) / ((performance.now() - started) / 1000);
}

/** Runs the questions; the share of top-five results on each question's topic comes back too. */
async function measure(store: StateStore, space: Space, data: Corpus, mode: SearchMode, count: number): Promise<{ ms: number[]; onTopic: number }> {
  const ms: number[] = [];
  let onTopic = 0;
  let results = 0;
  for (let i = -WARM_UP; i < count; i++) {
    const question = data.question(Math.abs(i) + (i < 0 ? 1_000_000 : 0));
    const started = performance.now();
    const hits = await searchChunks(store, { space, text: question.text, vector: question.vector, owner: "bench", topN: TOP_N, mode });
    if (i < 0) continue;
    ms.push(performance.now() - started);
    for (const hit of hits) {
      const index = Number(hit.title.slice("Document ".length)) * CHUNKS_PER_DOCUMENT + Number(hit.heading.slice("Part ".length));
      onTopic += data.chunk(index).topic === question.topic ? 1 : 0;
      results++;
    }
  }
  return { ms, onTopic: results ? onTopic / results : 0 };
}

/** The same directory served over the wire protocol, searched through the pg driver. */
async function overTheWire(dataDir: string, data: Corpus): Promise<number[]> {
  const db = new PGlite(dataDir, { extensions: { vector } });
  await db.waitReady;
  const port = await freePort();
  const server = new PGLiteSocketServer({ db, port, host: "127.0.0.1", maxConnections: 1 });
  await server.start();
  const store = new StateStore({ dataDir: "", databaseUrl: `postgres://postgres@127.0.0.1:${port}/postgres`, onPoolError: () => undefined });
  try {
    const space = await new DocumentStore(store).space("bench", DIMENSIONS);
    return (await measure(store, space, data, "hybrid", QUERIES)).ms;
  } finally {
    await store.close();
    await server.stop();
    await db.close();
  }
}

function du(dir: string): number {
  return readdirSync(dir, { withFileTypes: true, recursive: true }).reduce(
    (sum, entry) => sum + (entry.isFile() ? statSync(join(entry.parentPath, entry.name)).size : 0),
    0,
  );
}

async function runSize(chunks: number): Promise<SizeResult> {
  const dataDir = mkdtempSync(join(tmpdir(), "mcp-lab-bench-search-"));
  const data = corpus(DIMENSIONS);
  const store = new StateStore({ dataDir, databaseUrl: undefined, onPoolError: () => undefined });
  const docs = new DocumentStore(store);
  try {
    await store.use((db) => ensureVectorExtension(db, store.where));
    const space = await docs.space("bench", DIMENSIONS);
    log(`${chunks} chunks: writing them without an index (pnpm index's bulk path for a new space)...`);
    const writeChunksPerSecond = await load(docs, space, data, 0, chunks);
    log("building the HNSW index...");
    const building = performance.now();
    await store.use((db) => ensureVectorIndex(db, space));
    const indexBuildSeconds = (performance.now() - building) / 1000;
    await docs.analyze();
    const afterLoad = rss();
    log("adding 1,000 chunks with the index in place (an incremental run)...");
    const addChunksPerSecond = await load(docs, space, data, chunks, chunks + 1_000);
    const embedded = {} as Record<SearchMode, Latency>;
    let onTopic = 0;
    for (const mode of ["hybrid", "vector", "keyword"] as const) {
      log(`searching, ${mode}...`);
      const run = await measure(store, space, data, mode, QUERIES);
      embedded[mode] = latency(run.ms);
      if (mode === "hybrid") onTopic = run.onTopic;
    }
    const afterSearch = rss();
    await store.close();
    log("searching over the wire (pglite-socket, pg driver)...");
    const wire = latency(await overTheWire(dataDir, data));
    return {
      chunks,
      writeChunksPerSecond: Math.round(writeChunksPerSecond),
      indexBuildSeconds: round(indexBuildSeconds, 1),
      addChunksPerSecond: Math.round(addChunksPerSecond),
      embedded,
      wire,
      onTopic: round(onTopic, 3),
      rssMiB: { afterLoad, afterSearch },
      diskMiB: mib(du(dataDir)),
    };
  } finally {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function section(results: SizeResult[], seconds: number): string {
  const row = (cells: Array<string | number>) => `| ${cells.join(" | ")} |`;
  const target = (r: SizeResult) => (r.chunks >= 100_000 ? (r.embedded.hybrid.p95 < 50 && r.wire.p95 < 50 ? "PASS" : "**MISS**") : "—");
  return [
    "## Document search (`pnpm bench:search`)",
    "",
    `Measured by bench/search.ts on ${new Date().toISOString().slice(0, 10)} (${os.cpus()[0]?.model ?? "unknown CPU"}, ${os.availableParallelism()} cores, Node ${process.version}; load average of the machine at the end ${os.loadavg()[0]!.toFixed(1)}, over 15 minutes ${os.loadavg()[2]!.toFixed(1)}: other work on it slows every number) in ${Math.round(seconds)} s: a synthetic corpus (bench/searchCorpus.ts, seeded: ${CHUNKS_PER_DOCUMENT} chunks a document, 200 topics, vectors of ${DIMENSIONS} dimensions clustered by topic), ${QUERIES} questions after ${WARM_UP} to warm up, top ${TOP_N}. Embedding is not in these numbers: it is the model's time (Ollama), not the store's.`,
    "",
    "Target: search p95 under 50 ms at 100,000 chunks.",
    "",
    row([
      "chunks",
      "write (chunks/s, no index)",
      "HNSW build",
      "add with index (chunks/s)",
      "hybrid p50 / p95",
      "vector p50 / p95",
      "keyword p50 / p95",
      "over the wire p50 / p95",
      "top 5 on topic",
      "RSS after load / search",
      "on disk",
      "target",
    ]),
    row(Array(12).fill("---")),
    ...results.map((r) =>
      row([
        r.chunks.toLocaleString("en"),
        r.writeChunksPerSecond,
        `${r.indexBuildSeconds} s`,
        r.addChunksPerSecond,
        `${r.embedded.hybrid.p50} / ${r.embedded.hybrid.p95} ms`,
        `${r.embedded.vector.p50} / ${r.embedded.vector.p95} ms`,
        `${r.embedded.keyword.p50} / ${r.embedded.keyword.p95} ms`,
        `${r.wire.p50} / ${r.wire.p95} ms`,
        `${Math.round(r.onTopic * 100)} %`,
        `${r.rssMiB.afterLoad} / ${r.rssMiB.afterSearch} MiB`,
        `${r.diskMiB} MiB`,
        target(r),
      ]),
    ),
    "",
    "What the columns mean: *write* is `pnpm index`'s store work for a new embedding space (each document in its own transaction, the vector index built once afterwards: *HNSW build*); *add with index* is an incremental run, where every chunk also goes into the graph. *Hybrid* is what search_docs and ask_docs run (nearest chunks and keyword matches, fused); *over the wire* is the same query through the pg driver, as with DATABASE_URL. RSS is this whole process, PGlite's WebAssembly heap included.",
  ].join("\n");
}

const started = performance.now();
const results: SizeResult[] = [];
for (const size of SIZES) results.push(await runSize(size));
const text = section(results, (performance.now() - started) / 1000);
writeBenchSection("search", text);
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
log("wrote the document search section of BENCHMARKS.md");
