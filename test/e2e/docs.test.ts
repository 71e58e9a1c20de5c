import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHttpClient } from "../../src/llm/providers/httpClient.js";
import { OllamaProvider } from "../../src/llm/providers/ollama.js";
import { Embedder } from "../../src/services/docs/embedder.js";
import { Indexer } from "../../src/services/docs/indexer.js";
import { DocumentStore } from "../../src/state/documents.js";
import { StateStore } from "../../src/state/store.js";
import { collectJob, handedOff, patientCall } from "../support/jobs.js";
import { lastUserMessage, OllamaStandIn } from "../support/ollamaStandIn.js";
import { startPgliteWire } from "../support/pgliteWire.js";
import { callTool, connectClient, startTestServer, type TestServer } from "../support/server.js";
import { freshDataDir } from "../support/state.js";

const ALICE = "alice-token-0123456789";
const BOB = "bob-token-0123456789abcd";
const auth = (token: string) => ({ Authorization: `Bearer ${token}` });
const LONG = Array.from({ length: 1_800 }, (_, i) => `Line ${i} of the long appendix.`).join("\n");

/** The handbook indexed into `store` with the same code `pnpm index` runs; the store is closed afterwards. */
async function indexInto(store: StateStore, ollama: OllamaStandIn): Promise<void> {
  const folder = join(mkdtempSync(join(tmpdir(), "mcp-lab-docs-")), "handbook");
  mkdirSync(join(folder, "ops"), { recursive: true });
  writeFileSync(
    join(folder, "garden.md"),
    "# Garden\n\n## Tomatoes\n\nWater the tomato plants every morning in summer.\n\n## Roses\n\nPrune the roses in late winter.",
  );
  writeFileSync(join(folder, "ops", "errors.md"), "# Error codes\n\nE4021 means the disk quota is exceeded: delete old backups to free space.");
  writeFileSync(join(folder, "appendix.txt"), LONG);
  const http = createHttpClient({ connectTimeoutMs: 1_000 });
  const limits = { firstTokenMs: 10_000, idleMs: 10_000, totalMs: 10_000 };
  const embedder = new Embedder({
    ollama: new OllamaProvider({ baseUrl: ollama.baseUrl, http, limits, pullLimits: limits }),
    model: "embeddinggemma",
    dimensions: 0,
  });
  await new Indexer(new DocumentStore(store), embedder, () => undefined).run({
    paths: [folder],
    prune: false,
    maxDocumentBytes: 100_000,
    maxFiles: 100,
    signal: new AbortController().signal,
  });
  await store.close();
  await http.close();
}

/** A folder indexed before the server opens the store (the embedded store takes one process at a time). */
async function indexedDataDir(ollama: OllamaStandIn): Promise<string> {
  const dataDir = await freshDataDir();
  await indexInto(new StateStore({ dataDir, databaseUrl: undefined, onPoolError: () => undefined }), ollama);
  return dataDir;
}

/** The stand-in model answers from the passages it was given, citing the first that mentions the question's key word. */
function answerFromPassages(call: { messages: Array<{ role: string; content: string }> }): { content: string } {
  const prompt = lastUserMessage(call as never);
  const question = prompt.slice(prompt.lastIndexOf("Question: ") + 10).toLowerCase();
  const passages = prompt.slice(0, prompt.lastIndexOf("\n\nQuestion: ")).split(/\n\n(?=\[\d+\] )/);
  for (const word of question.match(/[a-z0-9]{5,}/g) ?? []) {
    const cited = passages.find((p) => p.toLowerCase().includes(word) && /^(Passages:\n\n)?\[\d+\]/.test(p));
    if (cited) return { content: `The documents say so about ${word} [${/\[(\d+)\]/.exec(cited)![1]}].` };
  }
  return { content: "NOT_IN_DOCUMENTS" };
}

describe("your documents through MCP", () => {
  let ollama: OllamaStandIn;
  let dataDir: string;
  let server: TestServer;
  let spare: string;
  let alice: Client;
  let bob: Client;

  beforeAll(async () => {
    ollama = await new OllamaStandIn().start();
    ollama.reply = (call) => (call.messages[0]?.content.includes("NOT_IN_DOCUMENTS") ? answerFromPassages(call) : { content: "plain" });
    dataDir = await indexedDataDir(ollama);
    spare = mkdtempSync(join(tmpdir(), "mcp-lab-docs-copy-"));
    cpSync(dataDir, spare, { recursive: true });
    server = await startTestServer({
      OLLAMA_BASE_URL: ollama.baseUrl,
      DATA_DIR: dataDir,
      MCP_AUTH_TOKEN: `${ALICE},${BOB}`,
      DOCS_MAX_DOCUMENT_BYTES: "4000",
      DOCS_MAX_BYTES_PER_TOKEN: "6000",
    });
    alice = await connectClient(server.url, "streamable-http", auth(ALICE));
    bob = await connectClient(server.url, "sse", auth(BOB));
  });
  afterAll(async () => {
    await alice.close();
    await bob.close();
    await server.shutdown("test over");
    await ollama.stop();
  });

  it("offers the document tools, each described", async () => {
    const names = (await alice.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(["search_docs", "get_document", "list_sections", "ask_docs", "add_document"]));
  });

  it("search_docs finds passages by meaning and exact codes, with title, section, heading, snippet, score and id", async () => {
    const byMeaning = await callTool(alice, "search_docs", { query: "when do I water the tomatoes?", top_n: 2 });
    expect(byMeaning.isError, byMeaning.text).toBeFalsy();
    const results = byMeaning.structuredContent!.results as Array<Record<string, unknown>>;
    expect(results[0]).toMatchObject({
      title: "Garden",
      section: "handbook",
      heading: "Tomatoes",
      snippet: "Water the tomato plants every morning in summer.",
    });
    expect(results[0]!.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(byMeaning.text).toContain("1. Garden › Tomatoes (section handbook) · score");
    expect(byMeaning.structuredContent!.mode).toBe("hybrid");
    const byCode = await callTool(alice, "search_docs", { query: "E4021", section: "handbook/ops" });
    expect(byCode.structuredContent!.results).toEqual([expect.objectContaining({ title: "Error codes", keywordRank: 1 })]);
  });

  it("get_document returns a document whole, in pieces past the output cap; list_sections shows sections and their documents", async () => {
    const sections = await callTool(alice, "list_sections", {});
    expect(sections.text).toMatch(/^2 section\(s\), 3 document\(s\):\n\n## handbook \(2 document\(s\), \d+ KB\)\n- appendix\.txt · id /);
    const handbook = await callTool(alice, "list_sections", { section: "HANDBOOK" });
    const documents = handbook.structuredContent!.documents as Array<{ id: string; title: string }>;
    expect(documents.map((d) => d.title)).toEqual(["appendix.txt", "Garden"]);
    const first = await callTool(alice, "get_document", { id: documents[0]!.id });
    expect(first.structuredContent).toMatchObject({ title: "appendix.txt", offset: 0, length: LONG.length, nextOffset: 39_400 });
    expect(first.text).toContain(`[characters 0–39400 of ${LONG.length}; call get_document with offset 39400 for the rest]`);
    const rest = await callTool(alice, "get_document", { id: documents[0]!.id, offset: 39_400 });
    expect((first.structuredContent!.text as string) + (rest.structuredContent!.text as string)).toBe(LONG);
    expect(rest.structuredContent!.nextOffset).toBeNull();
  });

  it("ask_docs answers only from the passages, cites them, and says plainly when the documents do not say", async () => {
    const answered = await callTool(alice, "ask_docs", { question: "What does E4021 mean?" });
    expect(answered.isError, answered.text).toBeFalsy();
    expect(answered.structuredContent).toMatchObject({ found: true, model: "qwen3:4b", provider: "ollama" });
    expect(answered.text).toMatch(/^The documents say so about e4021 \[1\]\.\n\nSources:\n\[1\] Error codes · id [0-9a-f-]{36}\n/);
    const sources = answered.structuredContent!.sources as Array<{ number: number; cited: boolean; title: string }>;
    expect(sources[0]).toMatchObject({ number: 1, cited: true, title: "Error codes" });
    expect(sources.slice(1).every((s) => !s.cited)).toBe(true);
    const sent = ollama.chats().at(-1)!.body as {
      messages: Array<{ role: string; content: string }>;
      options?: { temperature?: number };
    };
    expect(sent.messages[0]!.content).toContain("Use only what the passages say");
    expect(sent.messages[1]!.content).toContain("[1] Error codes (section handbook/ops)\nE4021 means the disk quota is exceeded");
    expect(sent.options?.temperature).toBe(0);

    const unknown = await callTool(alice, "ask_docs", { question: "Which planet is largest?" });
    expect(unknown.structuredContent).toMatchObject({ found: false });
    expect(unknown.text).toMatch(
      /^Your documents do not contain the answer to this question\. The closest passages are listed below; none of them answers it\.\n\nClosest passages:\n\[1\] /,
    );
  });

  it("ask_docs hands a slow answer over as a job: get_job gives it with its sources, to its token only", async () => {
    const held = ollama.holdAnswers();
    const job = handedOff(await patientCall(alice, "ask_docs", { question: "What does E4021 mean?", background: true }));
    expect((await callTool(bob, "get_job", { job_id: job })).text).toMatch(new RegExp(`^No job ${job}: it does not exist`));
    held.open();
    const answer = await collectJob(alice, job);
    expect(answer.isError, answer.text).toBeFalsy();
    expect(answer.text).toMatch(/^The documents say so about e4021 \[1\]\.\n\nSources:\n\[1\] Error codes · id [0-9a-f-]{36}\n/);
    expect(answer.structuredContent).toMatchObject({
      found: true,
      model: "qwen3:4b",
      sources: expect.arrayContaining([expect.objectContaining({ number: 1, cited: true })]),
    });
  });

  it("keeps what a token adds to itself: another token can neither find, read, list nor browse it", async () => {
    const added = await callTool(alice, "add_document", { title: "Secret recipe", text: "# Sauce\n\nSimmer the quince jam for an hour.", section: "kitchen" });
    expect(added.isError, added.text).toBeFalsy();
    const id = added.structuredContent!.id as string;
    expect(added.text).toBe(
      `Added "Secret recipe" to section kitchen as id ${id} (1 chunk(s)). search_docs and ask_docs find it now; only your token can see it.`,
    );
    expect((await callTool(alice, "search_docs", { query: "quince jam" })).structuredContent!.results).toEqual(
      expect.arrayContaining([expect.objectContaining({ id, title: "Secret recipe", heading: "Sauce" })]),
    );
    expect(JSON.stringify((await callTool(bob, "search_docs", { query: "quince jam", top_n: 50 })).structuredContent)).not.toContain(id);
    const foreign = await callTool(bob, "get_document", { id });
    expect(foreign.isError).toBe(true);
    expect(foreign.text).toBe(`There is no document with id ${id}. search_docs and list_sections give the ids of your documents.`);
    expect((await callTool(bob, "list_sections", { section: "kitchen" })).text).toBe(
      "There is no section 'kitchen'. Sections: handbook, handbook/ops (list_sections shows them all).",
    );
    expect((await alice.listResources()).resources.map((r) => r.uri)).toContain(`docs://documents/${id}`);
    expect((await bob.listResources()).resources.map((r) => r.uri)).not.toContain(`docs://documents/${id}`);
    await expect(bob.readResource({ uri: `docs://documents/${id}` })).rejects.toMatchObject({
      code: -32002,
      message: expect.stringContaining(`There is no document docs://documents/${id}`),
    });
    // The same title and section replace the text, under the same id.
    const again = await callTool(alice, "add_document", { title: "Secret recipe", text: "Now with ginger.", section: "kitchen" });
    expect(again.structuredContent!.id).toBe(id);
    expect((await alice.readResource({ uri: `docs://documents/${id}` })).contents[0]).toMatchObject({
      uri: `docs://documents/${id}`,
      mimeType: "text/markdown",
      text: "Now with ginger.",
    });
  });

  it("lists documents as resources with a template, and reads them", async () => {
    const templates = (await bob.listResourceTemplates()).resourceTemplates;
    expect(templates).toEqual([expect.objectContaining({ uriTemplate: "docs://documents/{id}", name: "document" })]);
    const listed = (await bob.listResources()).resources;
    expect(listed.map((r) => r.name)).toEqual(["appendix.txt", "Garden", "Error codes"]);
    expect(listed[1]).toMatchObject({ mimeType: "text/markdown", description: expect.stringMatching(/^handbook · \/.*garden\.md · \d+ bytes$/) });
    const garden = await bob.readResource({ uri: listed[1]!.uri });
    expect(garden.contents[0]).toMatchObject({ text: expect.stringContaining("Water the tomato plants every morning in summer.") });
    await expect(bob.listResources({ cursor: "not-ours" })).rejects.toMatchObject({ code: -32602 });
    // A client filling in the template's id is offered the ids of the documents whose title has what was typed.
    const completed = await bob.complete({ ref: { type: "ref/resource", uri: "docs://documents/{id}" }, argument: { name: "id", value: "GARD" } });
    expect(completed.completion.values).toEqual([listed[1]!.uri.slice("docs://documents/".length)]);
    expect(
      (await bob.complete({ ref: { type: "ref/resource", uri: "docs://documents/{id}" }, argument: { name: "id", value: "%" } })).completion.values,
    ).toEqual([]);
  });

  it("answers bad input with what to do, never a crash", async () => {
    const bad: Array<[string, Record<string, unknown>, string | RegExp]> = [
      ["search_docs", { query: "   " }, "query must not be empty"],
      ["search_docs", { query: "x".repeat(2_001) }, "query is at most 2000 characters"],
      ["search_docs", { query: "roses", top_n: 0 }, "top_n is a whole number from 1 to 50"],
      ["search_docs", { query: "roses", top_n: 51 }, "top_n is at most 50"],
      ["search_docs", { query: "roses", top_n: 2.5 }, "top_n is a whole number from 1 to 50"],
      ["search_docs", { query: "roses", section: "nowhere" }, "There is no section 'nowhere'. Sections: handbook, handbook/ops"],
      ["get_document", { id: "../../etc/passwd" }, "id is a document id as search_docs or list_sections give it"],
      ["get_document", { id: "00000000-0000-4000-8000-000000000000" }, "There is no document with id 00000000-0000-4000-8000-000000000000"],
      ["ask_docs", { question: "" }, "question must not be empty"],
      // PostgreSQL cannot store a NUL: refused as input, not reported as a database failure.
      ["search_docs", { query: "roses\u0000" }, "query may not contain control characters (other than tabs and line breaks)"],
      ["ask_docs", { question: "why\u0000" }, "question may not contain control characters"],
      ["add_document", { title: "Nul", text: "a\u0000b" }, "text may not contain control characters"],
      ["add_document", { title: "Big", text: "x".repeat(4_001) }, "The text has 4001 bytes; a document may have at most 4000 (DOCS_MAX_DOCUMENT_BYTES)"],
    ];
    for (const [tool, args, said] of bad) {
      const result = await callTool(bob, tool, args).catch((error: Error) => ({ isError: true, text: error.message }));
      expect(result.isError, `${tool} ${JSON.stringify(args).slice(0, 60)}`).toBe(true);
      expect(result.text).toMatch(said);
    }
    await callTool(bob, "add_document", { title: "One", text: "y".repeat(3_500) });
    const over = await callTool(bob, "add_document", { title: "Two", text: "z".repeat(3_500) });
    expect(over.text).toBe("Your documents would hold 7000 bytes; each token may add at most 6000 (DOCS_MAX_BYTES_PER_TOKEN). Nothing was added.");
  });

  it("falls back to keywords, and says why, when Ollama cannot embed the question", async () => {
    const models = ollama.models.splice(0);
    const result = await callTool(alice, "search_docs", { query: "E4021" }).finally(() => ollama.models.push(...models));
    expect(result.isError, result.text).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ mode: "keyword", results: [expect.objectContaining({ title: "Error codes" })] });
    expect(result.text).toContain(
      "Keyword matches only: the question could not be embedded for semantic search. The embedding model 'embeddinggemma' (EMBED_MODEL) is not pulled into Ollama. Pull it with `ollama pull embeddinggemma`",
    );
  });

  it("on a server whose EMBED_MODEL is not the documents', says what to set; keeps ask_docs local under LOCAL_ONLY; offers no add_document when told", async () => {
    const other = await startTestServer({
      OLLAMA_BASE_URL: ollama.baseUrl,
      DATA_DIR: spare,
      EMBED_MODEL: "nomic-embed-text",
      LOCAL_ONLY: "true",
      ADD_DOCUMENT_ENABLED: "false",
    });
    const client = await connectClient(other.url, "streamable-http");
    try {
      expect((await client.listTools()).tools.map((t) => t.name)).not.toContain("add_document");
      const mismatch = await callTool(client, "search_docs", { query: "roses" });
      expect(mismatch.isError).toBe(true);
      expect(mismatch.text).toBe(
        "The documents were embedded with embeddinggemma (768 dimensions), but this server embeds questions with EMBED_MODEL=nomic-embed-text. Set EMBED_MODEL (and EMBED_DIMENSIONS) on the server to match, or run `pnpm index` with EMBED_MODEL=nomic-embed-text to embed them again.",
      );
      const asked = ollama.requests.length;
      const cloud = await callTool(client, "ask_docs", { question: "When do roses get pruned?", model: "openai/gpt-4o-mini" });
      expect(cloud.isError).toBe(true);
      expect(cloud.text).toContain("LOCAL_ONLY=true: 'openai/gpt-4o-mini' would send the prompt to openai, off this machine.");
      expect(ollama.requests.length).toBe(asked);
    } finally {
      await client.close();
      await other.shutdown("test over");
    }
  });
});

describe("your documents on a PostgreSQL server (PGlite over the wire protocol, through the pg driver)", () => {
  it("indexes into DATABASE_URL and answers from it, the same as on the embedded store", async () => {
    const ollama = await new OllamaStandIn().start();
    ollama.reply = (call) => answerFromPassages(call);
    const wire = await startPgliteWire();
    const server = await startTestServer({ OLLAMA_BASE_URL: ollama.baseUrl, DATABASE_URL: wire.url });
    const client = await connectClient(server.url, "streamable-http");
    try {
      const store = new StateStore({ dataDir: "", databaseUrl: wire.url, onPoolError: () => undefined });
      await indexInto(store, ollama);
      const found = await callTool(client, "search_docs", { query: "E4021" });
      expect((found.structuredContent!.results as unknown[])[0]).toMatchObject({ title: "Error codes", section: "handbook/ops", keywordRank: 1 });
      const answered = await callTool(client, "ask_docs", { question: "What does E4021 mean?" });
      expect(answered.structuredContent).toMatchObject({
        found: true,
        sources: expect.arrayContaining([expect.objectContaining({ title: "Error codes", cited: true })]),
      });
    } finally {
      await client.close();
      await server.shutdown("test over");
      await wire.stop();
      await ollama.stop();
    }
  });
});
