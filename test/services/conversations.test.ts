import { describe, expect, it } from "vitest";
import { ConversationStore } from "../../src/services/conversations.js";

const limits = { ttlMs: 60_000, maxTurns: 20, maxBytes: 1_000_000, maxBytesPerOwner: 300_000 };
const user = (text: string) => ({ role: "user" as const, content: text });
const assistant = (text: string) => ({ role: "assistant" as const, content: text });

describe("ConversationStore", () => {
  it("keeps each conversation to its owner", async () => {
    const store = new ConversationStore(limits);
    const saved = await store.record(store.start("token:a"), user("hi"), assistant("hello"));
    expect(await store.get(saved.id, "token:a")).toBeDefined();
    expect(await store.get(saved.id, "token:b")).toBeUndefined();
  });

  it("holds one owner to its byte quota by dropping its least recently used conversations", async () => {
    const store = new ConversationStore(limits);
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push((await store.record(store.start("token:a"), user("x".repeat(50_000)), assistant("y"))).id);
    const kept = (await Promise.all(ids.map((id) => store.get(id, "token:a")))).filter(Boolean);
    expect(kept.length).toBe(5);
    expect(await store.get(ids[9]!, "token:a")).toBeDefined();
    expect(await store.get(ids[0]!, "token:a")).toBeUndefined();
    const other = await store.record(store.start("token:b"), user("mine"), assistant("ok"));
    expect(await store.get(other.id, "token:b")).toBeDefined();
  });

  it("stays within the overall byte budget however many owners write", async () => {
    const store = new ConversationStore({ ...limits, maxBytes: 200_000 });
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push((await store.record(store.start(`token:${i}`), user("z".repeat(20_000)), assistant("ok"))).id);
    const kept = (await Promise.all(ids.map((id, i) => store.get(id, `token:${i}`)))).filter(Boolean);
    expect(kept.length).toBeLessThanOrEqual(10);
    expect(kept.length).toBeGreaterThan(0);
  });

  it("gives the model only as much history as fits the prompt budget, newest turns first", async () => {
    const store = new ConversationStore(limits);
    let conversation = store.start("token:a");
    for (const turn of ["one", "two", "three"]) conversation = await store.record(conversation, user(turn.repeat(10)), assistant("ok"));
    const all = store.history(conversation, 10_000);
    expect(all.omitted).toBe(0);
    expect(all.messages).toHaveLength(6);
    const recent = store.history(conversation, 60);
    expect(recent.omitted).toBe(2);
    expect(recent.messages.map((m) => m.content)).toEqual(["threethreethreethreethreethreethreethreethreethree", "ok"]);
  });
});
