// One measurement of the embedded store in a process of its own, so that its start-up and its
// memory are not mixed with anything else: prints one JSON line.
import { ConversationStore } from "../src/state/conversations.js";
import { StateStore } from "../src/state/store.js";

const [dataDir = ""] = process.argv.slice(2);
const rssBefore = process.memoryUsage().rss;
const started = performance.now();
const store = new StateStore({ dataDir, databaseUrl: undefined, onPoolError: () => undefined });
await store.use((db) => db.query("select 1"));
const openMs = performance.now() - started;
const conversations = new ConversationStore(store, { ttlMs: 3_600_000, maxTurns: 20, maxBytes: 64 * 1024 * 1024, maxBytesPerOwner: 8 * 1024 * 1024 });
await conversations.record(conversations.start("bench"), { role: "user", content: "hello" }, { role: "assistant", content: "hi" });
const rssAfter = process.memoryUsage().rss;
await store.close();
process.stdout.write(`${JSON.stringify({ openMs, rssGrowth: rssAfter - rssBefore })}\n`);
