import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConversationStore } from "../../src/state/conversations.js";
import { StateError } from "../../src/state/db.js";
import { ensureVectorExtension, ensureVectorIndex, spacePredicate, vectorExpression, vectorParam } from "../../src/state/documentIndex.js";
import { type SearchMode, searchChunks } from "../../src/state/documentSearch.js";
import { DocumentStore, SHARED } from "../../src/state/documents.js";
import { StateStore } from "../../src/state/store.js";
import { standInEmbedding } from "../support/ollamaStandIn.js";
import { startPgliteWire, type WireServer } from "../support/pgliteWire.js";
import { postgresBin, startPostgres } from "../support/postgres.js";
import { freshDataDir, removeDataDir } from "../support/state.js";

type Engine = { name: string; open(): Promise<StateStore>; close(): Promise<void> };

/** The vector SQL on PGlite in process, and over the PostgreSQL wire protocol through the `pg` driver (DATABASE_URL's path). */
const engines: Engine[] = [
  (() => {
    let dir = "";
    return {
      name: "PGlite in process",
      async open() {
        dir = await freshDataDir();
        return new StateStore({ dataDir: dir, databaseUrl: undefined, onPoolError: () => undefined });
      },
      async close() {
        removeDataDir(dir);
      },
    };
  })(),
  (() => {
    let wire: WireServer | undefined;
    return {
      name: "PGlite over the wire (pg driver)",
      async open() {
        wire = await startPgliteWire();
        return new StateStore({ dataDir: "", databaseUrl: wire.url, onPoolError: () => undefined });
      },
      async close() {
        await wire?.stop();
      },
    };
  })(),
];

const DIMS = 64;
const embedding = (text: string) => standInEmbedding(text, DIMS);
const chunk = (heading: string, body: string) => ({ heading, body, embedding: embedding(`${heading} ${body}`) });
const doc = (owner: string, source: string, title: string, section = "manual") => ({
  owner,
  source,
  section,
  title,
  content: `${title} text`,
  contentHash: `hash-${source}`,
});

describe.each(engines)("documents on $name", (engine) => {
  let store: StateStore;
  let docs: DocumentStore;
  const search = (text: string, mode: SearchMode, extra: { owner?: string; section?: string; topN?: number } = {}) =>
    docs
      .space("embed-a", DIMS)
      .then((space) =>
        searchChunks(store, { space, text, vector: embedding(text), owner: extra.owner ?? "token:alice", section: extra.section, topN: extra.topN ?? 5, mode }),
      );

  beforeAll(async () => {
    store = await engine.open();
    docs = new DocumentStore(store);
    await store.use((db) => ensureVectorExtension(db, store.where));
    const space = await docs.space("embed-a", DIMS);
    await store.use((db) => ensureVectorIndex(db, space));
    await docs.replace(
      doc(SHARED, "/notes/garden.md", "Garden"),
      [chunk("Tomatoes", "Water the tomato plants every morning in summer."), chunk("Roses", "Prune the roses in late winter.")],
      space,
    );
    await docs.replace(
      doc(SHARED, "/notes/errors.md", "Error codes", "reference"),
      [chunk("Codes", "E4021 means the disk quota is exceeded; free some space.")],
      space,
    );
    await docs.replace(doc("token:alice", "added:notes/diary", "Alice's diary", "notes"), [chunk("", "Planted tomatoes with my neighbour today.")], space);
  });
  afterAll(async () => {
    await store.close();
    await engine.close();
  });

  it("finds passages by meaning, by exact keywords, and by both at once", async () => {
    const byMeaning = await search("when should I water tomato plants", "vector");
    expect(byMeaning[0]).toMatchObject({ title: "Garden", heading: "Tomatoes", keywordRank: null });
    expect(byMeaning[0]!.similarity).toBeGreaterThan(byMeaning[1]!.similarity!);
    const byWords = await search("E4021", "keyword");
    expect(byWords.map((h) => h.title)).toEqual(["Error codes"]);
    expect(byWords[0]).toMatchObject({ keywordRank: 1, similarity: null, section: "reference" });
    const both = await search("tomato E4021", "hybrid");
    expect(new Set(both.slice(0, 3).map((h) => h.title))).toEqual(new Set(["Garden", "Error codes", "Alice's diary"]));
    expect(both[0]!.score).toBeGreaterThanOrEqual(both.at(-1)!.score);
  });

  it("shows each caller the shared documents and its own only, in every kind of search and read", async () => {
    const alice = await search("tomatoes", "hybrid", { owner: "token:alice" });
    const bob = await search("tomatoes", "hybrid", { owner: "token:bob" });
    expect(alice.map((h) => h.title)).toContain("Alice's diary");
    expect(bob.map((h) => h.title)).not.toContain("Alice's diary");
    const diary = alice.find((h) => h.title === "Alice's diary")!;
    expect(await docs.get(diary.documentId, "token:bob")).toBeUndefined();
    expect((await docs.get(diary.documentId, "token:alice"))?.content).toBe("Alice's diary text");
    expect((await docs.sections("token:bob")).map((s) => s.section)).toEqual(["manual", "reference"]);
    expect(await docs.sections("token:alice")).toEqual([
      { section: "manual", documents: 1, bytes: 11 },
      { section: "notes", documents: 1, bytes: 18 },
      { section: "reference", documents: 1, bytes: 16 },
    ]);
    // What search notes say of a space: another token's documents are not counted for bob.
    const space = await docs.space("embed-a", DIMS);
    expect([await docs.documentsIn(space, "token:bob"), await docs.documentsIn(space, "token:alice"), await docs.documentsIn(space)]).toEqual([2, 3, 3]);
  });

  it("takes any text as a query: quotes, backslashes and tsquery syntax are words, never syntax", async () => {
    for (const hostile of ["E4021' | 'x", "\\ E4021 \\'", "!E4021 & (quota | :*)", "'''", "<-> E4021 <2>", "日本語 E4021"]) {
      const titles = (await search(hostile, "keyword")).map((h) => h.title);
      expect(titles.includes("Error codes") || hostile === "'''", hostile).toBe(true);
    }
    expect(await search("!!! ((( )))", "keyword")).toEqual([]);
  });

  it("searches one section when asked, whatever its case", async () => {
    expect((await search("tomatoes quota", "hybrid", { section: "REFERENCE" })).map((h) => h.title)).toEqual(["Error codes"]);
  });

  it("replaces a document whole, and prunes the ones whose files are gone", async () => {
    const space = await docs.space("embed-a", DIMS);
    await docs.replace(doc(SHARED, "/notes/garden.md", "Garden"), [chunk("Beans", "Beans climb.")], space);
    const garden = await search("beans tomatoes roses", "keyword", { topN: 10 });
    expect(garden.filter((h) => h.title === "Garden").map((h) => h.heading)).toEqual(["Beans"]);
    expect(await docs.prune("/notes/", new Set(["/notes/garden.md"]))).toEqual(["/notes/errors.md"]);
    expect((await search("E4021", "keyword")).length).toBe(0);
  });

  it("leaves words too common to tell passages apart out of the keyword half, and takes at most 16 of a query's words", async () => {
    const space = await docs.space("embed-a", DIMS);
    for (let i = 0; i < 30; i++)
      await docs.replace(doc(SHARED, `/common/${i}.md`, `Widget note ${i}`, "widgets"), [chunk("", `The widget number ${i} is marked rareword${i}x.`)], space);
    await docs.analyze();
    expect(await search("widget", "keyword", { section: "widgets" })).toEqual([]);
    expect((await search("widget rareword7x", "keyword", { section: "widgets" })).map((h) => h.title)).toEqual(["Widget note 7"]);
    expect((await search("widget", "vector", { section: "widgets" })).length).toBe(5);
    const many = Array.from({ length: 200 }, (_, i) => `term${i}`).join(" ");
    expect(await search(`${many} rareword3x`, "keyword", { section: "widgets" })).toEqual([]);
    await docs.prune("/common/", new Set());
  });

  it("never compares the vectors of two models: each space is searched alone, through its own index", async () => {
    const other = await docs.space("embed-b", 32);
    await store.use((db) => ensureVectorIndex(db, other));
    await docs.replace(
      doc(SHARED, "/other/beans.md", "Other model's beans"),
      [{ heading: "", body: "Beans climb.", embedding: standInEmbedding("Beans climb.", 32) }],
      other,
    );
    const byMeaningInA = await search("beans", "vector", { topN: 10 });
    expect(byMeaningInA.map((h) => h.title)).not.toContain("Other model's beans");
    const byMeaningInB = await searchChunks(store, {
      space: other,
      text: "beans",
      vector: standInEmbedding("beans", 32),
      owner: "token:alice",
      topN: 10,
      mode: "vector",
    });
    expect(byMeaningInB.map((h) => h.title)).toEqual(["Other model's beans"]);
    // Keywords compare no vectors: the other model's document is found by its words, never by a distance.
    const hybridInA = await search("beans", "hybrid", { topN: 10 });
    expect(hybridInA.find((h) => h.title === "Other model's beans")).toMatchObject({ similarity: null, keywordRank: expect.any(Number) });
    const space = await docs.space("embed-a", DIMS);
    const plan = await store.use((db) =>
      db.transaction(async (tx) => {
        await tx.exec("set local enable_sort = off"); // as searchChunks does
        const rows = await tx.query<{ "QUERY PLAN": string }>(
          `explain select document_id from document_vectors where ${spacePredicate(space)} order by ${vectorExpression(space)} <=> $1::int[]::vector(${DIMS}) limit 5`,
          [vectorParam(embedding("beans"))],
        );
        return rows.map((row) => row["QUERY PLAN"]).join("\n");
      }),
    );
    expect(plan).toContain(`Index Scan using document_vectors_hnsw_${space.id}`);
  });
});

describe.skipIf(!postgresBin())("a PostgreSQL server without pgvector (Debian's, here)", () => {
  it("migrates and keeps conversations working, and document search names the missing extension and how to get it", async () => {
    const server = await startPostgres();
    const store = new StateStore({ dataDir: "", databaseUrl: server.url, onPoolError: () => undefined });
    const conversations = new ConversationStore(store, { ttlMs: 60_000, maxTurns: 5, maxBytes: 1_000_000, maxBytesPerOwner: 100_000 });
    const saved = await conversations.record(conversations.start("token:a"), { role: "user", content: "hi" }, { role: "assistant", content: "hello" });
    expect((await conversations.get(saved.id, "token:a"))?.turns).toHaveLength(1);
    const error = await store.use((db) => ensureVectorExtension(db, store.where)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StateError);
    expect((error as Error).message).toMatch(
      /^Postgres at 127\.0\.0\.1:\d+\/mcp_lab has no `vector` extension \(pgvector\), which document search needs\. Use a PostgreSQL that ships it: the image pgvector\/pgvector:0\.8\.1-pg17/,
    );
    expect((error as Error).message).toContain("Conversations and every other tool keep working meanwhile");
    await store.close();
    await server.stop();
  });
});
