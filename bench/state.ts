import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { postgresBin, startPostgres } from "../dev/postgres.js";
import { ConversationStore } from "../src/state/conversations.js";
import { StateStore } from "../src/state/store.js";
import { log, median, mib, round, type Summary, summarize } from "./stats.js";

/**
 * `pnpm bench:state`: the state store's own costs. The embedded store's start-up (a brand-new
 * directory, and one that exists, as after a restart) and memory, each in a fresh process; and a
 * store round trip (a conversation read and written back, as each continued ask_llm does) on each
 * engine. Writes its section of BENCHMARKS.md between the markers below.
 */

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BEGIN = "<!-- state:begin -->";
const END = "<!-- state:end -->";
const limits = { ttlMs: 3_600_000, maxTurns: 20, maxBytes: 64 * 1024 * 1024, maxBytesPerOwner: 8 * 1024 * 1024 };

type StartUp = { openMs: number; rssGrowth: number };

function startOnce(dir: string): StartUp {
  const out = execFileSync(process.execPath, ["--import", import.meta.resolve("tsx"), join(ROOT, "bench/stateChild.ts"), dir], { encoding: "utf8" });
  return JSON.parse(out.trim().split("\n").at(-1)!) as StartUp;
}

async function roundTrips(store: StateStore, count: number): Promise<Summary> {
  const conversations = new ConversationStore(store, limits);
  let conversation = await conversations.record(conversations.start("bench"), { role: "user", content: "first" }, { role: "assistant", content: "ok" });
  for (let i = 0; i < 20; i++)
    conversation = await conversations.record(conversation, { role: "user", content: `warm ${i}` }, { role: "assistant", content: "ok" });
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const loaded = (await conversations.get(conversation.id, "bench"))!;
    conversation = await conversations.record(loaded, { role: "user", content: `turn ${i}` }, { role: "assistant", content: "an answer of a few words" });
    samples.push(performance.now() - started);
  }
  return summarize(samples);
}

async function main(): Promise<void> {
  const quick = process.argv.includes("--quick");
  const fresh: StartUp[] = [];
  const existing: StartUp[] = [];
  for (let i = 0; i < (quick ? 2 : 3); i++) {
    const dir = mkdtempSync(join(tmpdir(), "mcp-lab-bench-state-"));
    log(`embedded store start-up, run ${i + 1}`);
    fresh.push(startOnce(dir));
    for (let j = 0; j < 2; j++) existing.push(startOnce(dir));
    rmSync(dir, { recursive: true, force: true });
  }
  const trips = quick ? 200 : 1000;
  const dir = mkdtempSync(join(tmpdir(), "mcp-lab-bench-state-"));
  const embedded = new StateStore({ dataDir: dir, databaseUrl: undefined, onPoolError: () => undefined });
  log("round trips, embedded");
  const embeddedTrips = await roundTrips(embedded, trips);
  await embedded.close();
  rmSync(dir, { recursive: true, force: true });
  let serverTrips: Summary | undefined;
  if (postgresBin()) {
    const server = await startPostgres();
    const store = new StateStore({ dataDir: "", databaseUrl: server.url, onPoolError: () => undefined });
    log("round trips, PostgreSQL on loopback");
    serverTrips = await roundTrips(store, trips);
    await store.close();
    await server.stop();
  }
  const row = (name: string, s: Summary | undefined) =>
    s ? `| ${name} | ${s.n} | ${s.p50} | ${s.p95} | ${s.p99} |` : `| ${name} | — | not measured: no PostgreSQL installed | | |`;
  const section = [
    BEGIN,
    "## The state store (`pnpm bench:state`)",
    "",
    "The embedded store (PGlite) is loaded the first time something needs state, never by `/health`. Each start-up below is a process of its own that opens the store, applies the migrations and writes one conversation; memory is the growth of its RSS.",
    "",
    "| embedded store | start-up (median ms) | RSS growth (median MiB) |",
    "| --- | --- | --- |",
    `| a brand-new directory (initdb) | ${round(median(fresh.map((s) => s.openMs)), 0)} | ${mib(median(fresh.map((s) => s.rssGrowth)))} |`,
    `| an existing directory (a restart) | ${round(median(existing.map((s) => s.openMs)), 0)} | ${mib(median(existing.map((s) => s.rssGrowth)))} |`,
    "",
    "A round trip: a conversation of 20 turns read and written back (what each continued `ask_llm` does), in milliseconds:",
    "",
    "| engine | n | p50 | p95 | p99 |",
    "| --- | --- | --- | --- | --- |",
    row("PGlite, in process", embeddedTrips),
    row("PostgreSQL 15 on loopback (pg pool)", serverTrips),
    END,
  ].join("\n");
  const path = join(ROOT, "BENCHMARKS.md");
  const report = readFileSync(path, "utf8");
  const start = report.indexOf(BEGIN);
  const end = report.indexOf(END);
  writeFileSync(path, start === -1 ? `${report.trimEnd()}\n\n${section}\n` : `${report.slice(0, start)}${section}${report.slice(end + END.length)}`);
  log(`wrote the state section of BENCHMARKS.md`);
  console.log(section);
}

await main();
