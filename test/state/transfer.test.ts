import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { ConversationStore } from "../../src/state/conversations.js";
import { DocumentStore, SHARED } from "../../src/state/documents.js";
import { StateStore } from "../../src/state/store.js";
import { exportRows, importRows } from "../../src/state/transfer.js";
import { engines } from "../support/engines.js";

const limits = { ttlMs: 3_600_000, maxTurns: 20, maxBytes: 10_000_000, maxBytesPerOwner: 1_000_000 };

describe("moving state between engines", () => {
  const [embedded, server] = engines();
  afterAll(async () => {
    await embedded?.close();
    await server?.close();
  });

  it("exports every row and imports it into the other engine, conversations intact", async () => {
    const from = new StateStore({ ...(await embedded!.open()), onPoolError: () => undefined });
    const to = new StateStore({ ...(await (server ?? embedded)!.open()), onPoolError: () => undefined });
    const before = new ConversationStore(from, limits);
    const saved = await before.record(before.start("token:a"), { role: "user", content: "日本語も 😀" }, { role: "assistant", content: "ok" });
    // Documents point at their space, chunks at their document: the import goes parents first.
    const documents = new DocumentStore(from);
    const space = await documents.space("embeddinggemma", 3);
    const document = { owner: SHARED, source: "/notes/a.md", section: "notes", title: "A", content: "Alpha text", contentHash: "h" };
    const id = await documents.replace(document, [{ heading: "Intro", body: "Alpha text", embedding: [0.5, -0.25, 1] }], space);
    const lines: string[] = [];
    await from.use(async (db) => {
      for await (const line of exportRows(db)) lines.push(line);
    });
    const counts = await to.use((db) => importRows(db, createInterface({ input: Readable.from(lines.join("\n")) })));
    expect(counts.conversations).toBeGreaterThanOrEqual(1);
    expect(counts).toMatchObject({ embedding_spaces: 1, documents: 1, document_chunks: 1, document_vectors: 1 });
    const chunk = await to.use((db) =>
      db.query<{ embedding: number[]; tsv: string }>(
        "select v.embedding, c.tsv::text as tsv from document_chunks c join document_vectors v using (document_id, ord) where document_id = $1",
        [id],
      ),
    );
    // Stored as sent: scaled to length 1, in steps of 2^-23 (vectorParam); title and heading weigh most (A).
    expect(chunk).toEqual([{ embedding: [3661089, -1830544, 7322177], tsv: "'alpha':3 'intro':2A 'text':4" }]);
    const after = new ConversationStore(to, limits);
    expect((await after.get(saved.id, "token:a"))?.turns).toEqual(saved.turns);
    // Importing again keeps what is there.
    await to.use((db) => importRows(db, createInterface({ input: Readable.from(lines.join("\n")) })));
    await Promise.all([from.close(), to.close()]);
  });
});
