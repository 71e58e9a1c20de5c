import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConversationStore } from "../../src/state/conversations.js";
import { StateStore } from "../../src/state/store.js";
import { engines } from "../support/engines.js";

const limits = { ttlMs: 60_000, maxTurns: 20, maxBytes: 1_000_000, maxBytesPerOwner: 300_000 };
const user = (text: string) => ({ role: "user" as const, content: text });
const assistant = (text: string) => ({ role: "assistant" as const, content: text });

describe.each(engines())("ConversationStore on $name", (engine) => {
  let state: StateStore;
  let now = new Date("2026-11-27T12:00:00Z");
  const store = (overrides: Partial<typeof limits> = {}) => new ConversationStore(state, { ...limits, ...overrides }, () => now);
  beforeAll(async () => {
    state = new StateStore({ ...(await engine.open()), onPoolError: () => undefined });
  });
  afterAll(async () => {
    await state.close();
    await engine.close();
  });

  it("keeps each conversation to its owner, and lets it expire", async () => {
    const conversations = store();
    const saved = await conversations.record(conversations.start("token:a"), user("hi"), assistant("hello"));
    expect(await conversations.get(saved.id, "token:a")).toMatchObject({ turns: [[user("hi"), assistant("hello")]] });
    expect(await conversations.get(saved.id, "token:b")).toBeUndefined();
    now = new Date(now.getTime() + 61_000);
    expect(await conversations.get(saved.id, "token:a")).toBeUndefined();
  });

  it("holds one owner to its byte quota by dropping its least recently used conversations", async () => {
    const conversations = store();
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      now = new Date(now.getTime() + 1_000);
      ids.push((await conversations.record(conversations.start("token:quota"), user("x".repeat(50_000)), assistant("y"))).id);
    }
    const kept = (await Promise.all(ids.map((id) => conversations.get(id, "token:quota")))).filter(Boolean);
    expect(kept.length).toBe(5);
    expect(await conversations.get(ids[9]!, "token:quota")).toBeDefined();
    expect(await conversations.get(ids[0]!, "token:quota")).toBeUndefined();
  });

  it("stays within the overall byte budget after housekeeping, and forgets what expired", async () => {
    const conversations = store({ maxBytes: 200_000 });
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      now = new Date(now.getTime() + 1_000);
      ids.push((await conversations.record(conversations.start(`token:budget-${i}`), user("z".repeat(20_000)), assistant("ok"))).id);
    }
    await state.maintain(now);
    const kept = (await Promise.all(ids.map((id, i) => conversations.get(id, `token:budget-${i}`)))).filter(Boolean);
    expect(kept.length).toBeLessThanOrEqual(10);
    expect(kept.length).toBeGreaterThan(0);
    expect(await conversations.get(ids[29]!, "token:budget-29")).toBeDefined();
  });

  it("gives the model only as much history as fits the prompt budget, newest turns first, and caps turns", async () => {
    const conversations = store({ maxTurns: 2 });
    let conversation = conversations.start("token:turns");
    for (const turn of ["one", "two", "three"]) conversation = await conversations.record(conversation, user(turn.repeat(10)), assistant("ok"));
    const loaded = (await conversations.get(conversation.id, "token:turns"))!;
    expect(loaded.turns).toHaveLength(2);
    expect(loaded.dropped).toBe(1);
    const recent = conversations.history(loaded, 60);
    expect(recent.omitted).toBe(1);
    expect(recent.messages.map((m) => m.content)).toEqual(["threethreethreethreethreethreethreethreethreethree", "ok"]);
  });

  it("never lets a caller overwrite another caller's conversation under the same id", async () => {
    const conversations = store();
    const theirs = await conversations.record(conversations.start("token:owner"), user("mine"), assistant("ok"));
    await conversations.record({ ...theirs, owner: "token:thief", turns: [] }, user("overwritten?"), assistant("no"));
    expect((await conversations.get(theirs.id, "token:owner"))!.turns[0]![0].content).toBe("mine");
  });
});
