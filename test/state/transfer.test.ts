import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { ConversationStore } from "../../src/state/conversations.js";
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
    const lines: string[] = [];
    await from.use(async (db) => {
      for await (const line of exportRows(db)) lines.push(line);
    });
    const counts = await to.use((db) => importRows(db, createInterface({ input: Readable.from(lines.join("\n")) })));
    expect(counts.conversations).toBeGreaterThanOrEqual(1);
    const after = new ConversationStore(to, limits);
    expect((await after.get(saved.id, "token:a"))?.turns).toEqual(saved.turns);
    // Importing again keeps what is there.
    await to.use((db) => importRows(db, createInterface({ input: Readable.from(lines.join("\n")) })));
    await Promise.all([from.close(), to.close()]);
  });
});
