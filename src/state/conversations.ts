import { randomUUID } from "node:crypto";
import type { ChatMessage } from "../llm/types.js";
import type { StateStore } from "./store.js";

type Turn = [ChatMessage, ChatMessage];

export type Conversation = { id: string; owner: string; turns: Turn[]; dropped: number };

export type ConversationLimits = {
  ttlMs: number;
  maxTurns: number;
  /** Bytes of text all conversations may hold together; the least recently used go first. */
  maxBytes: number;
  /** Bytes one caller's conversations may hold; that caller's least recently used go first. */
  maxBytesPerOwner: number;
};

const bytesOf = (turns: Turn[]) => turns.reduce((sum, [user, assistant]) => sum + Buffer.byteLength(user.content) + Buffer.byteLength(assistant.content), 0);

/**
 * Conversations in the state store: kept for a while (TTL from the last use), each bound to the
 * caller that started it and capped at `maxTurns` user/assistant pairs (older turns are dropped
 * first), within a byte budget per caller (enforced on every write) and overall (by the store's
 * housekeeping). Shared by every replica on the same store, and kept across restarts.
 */
export class ConversationStore {
  constructor(
    private readonly store: StateStore,
    private readonly limits: ConversationLimits,
    private readonly now: () => Date = () => new Date(),
  ) {
    store.onMaintenance((db, now) => this.sweep(db, now));
  }

  /** The caller's conversation with this id; another caller's, or an expired one, is treated as unknown. */
  async get(id: string, owner: string): Promise<Conversation | undefined> {
    const now = this.now();
    const rows = await this.store.use((db) =>
      db.query<{ turns: Turn[]; dropped: number }>(
        "update conversations set expires_at = $3 where id = $1 and owner = $2 and expires_at > $4 returning turns, dropped",
        [id, owner, new Date(now.getTime() + this.limits.ttlMs), now],
      ),
    );
    const row = rows[0];
    return row ? { id, owner, turns: row.turns, dropped: row.dropped } : undefined;
  }

  start(owner: string): Conversation {
    return { id: randomUUID(), owner, turns: [], dropped: 0 };
  }

  /** The newest turns whose text fits in `budgetChars`, oldest first, and how many older ones were left out. */
  history(conversation: Conversation, budgetChars: number): { messages: ChatMessage[]; omitted: number } {
    let used = 0;
    let kept = 0;
    for (const [user, assistant] of [...conversation.turns].reverse()) {
      used += user.content.length + assistant.content.length;
      if (used > budgetChars) break;
      kept++;
    }
    return { messages: conversation.turns.slice(conversation.turns.length - kept).flat(), omitted: conversation.turns.length - kept };
  }

  async record(conversation: Conversation, user: ChatMessage, assistant: ChatMessage): Promise<Conversation> {
    const turns: Turn[] = [...conversation.turns, [user, assistant]];
    let excess = Math.max(0, turns.length - this.limits.maxTurns);
    // One conversation alone never holds more than its caller's quota: its oldest turns go first.
    while (excess < turns.length - 1 && bytesOf(turns.slice(excess)) > this.limits.maxBytesPerOwner) excess++;
    const kept = turns.slice(excess);
    const next = { id: conversation.id, owner: conversation.owner, turns: kept, dropped: conversation.dropped + excess };
    const now = this.now();
    await this.store.use((db) =>
      db.transaction(async (tx) => {
        await tx.query(
          `insert into conversations (id, owner, turns, dropped, bytes, updated_at, expires_at) values ($1, $2, $3, $4, $5, $6, $7)
           on conflict (id) do update set turns = excluded.turns, dropped = excluded.dropped, bytes = excluded.bytes, updated_at = excluded.updated_at, expires_at = excluded.expires_at
           where conversations.owner = excluded.owner`,
          [next.id, next.owner, JSON.stringify(kept), next.dropped, bytesOf(kept), now, new Date(now.getTime() + this.limits.ttlMs)],
        );
        // The caller's least recently used conversations beyond its quota, this one excepted.
        await tx.query(
          `delete from conversations where id in (
             select id from (select id, sum(bytes) over (order by updated_at desc, id) as running from conversations where owner = $1) ranked
             where running > $2 and id <> $3)`,
          [next.owner, this.limits.maxBytesPerOwner, next.id],
        );
      }),
    );
    return next;
  }

  /** Expired conversations go, then the least recently used ones beyond the overall budget. */
  private async sweep(db: { query(sql: string, params?: unknown[]): Promise<unknown[]> }, now: Date): Promise<void> {
    await db.query("delete from conversations where expires_at <= $1", [now]);
    await db.query(
      `delete from conversations where id in (
         select id from (select id, sum(bytes) over (order by updated_at desc, id) as running from conversations) ranked where running > $1)`,
      [this.limits.maxBytes],
    );
  }
}
