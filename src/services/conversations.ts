import { randomUUID } from "node:crypto";
import { LRUCache } from "lru-cache";
import type { ChatMessage } from "../llm/types.js";

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

const ENTRY_OVERHEAD_BYTES = 1_024;

const bytesOf = (turns: Turn[]) => turns.reduce((sum, [user, assistant]) => sum + Buffer.byteLength(user.content) + Buffer.byteLength(assistant.content), 0);

/**
 * Conversations kept in memory for a while (TTL from the last turn), each bound to the caller that
 * started it and capped at `maxTurns` user/assistant pairs (older turns are dropped first), within a
 * byte budget overall and per caller. Lost on restart, and not shared between replicas.
 */
export class ConversationStore {
  private readonly cache: LRUCache<string, Conversation & { bytes: number }>;
  private readonly owned = new Map<string, { ids: Set<string>; bytes: number }>();

  constructor(private readonly limits: ConversationLimits) {
    this.cache = new LRUCache({
      maxSize: limits.maxBytes,
      // Text plus what each entry costs in the heap besides its text, so the budget is real memory.
      sizeCalculation: (conversation) => conversation.bytes + ENTRY_OVERHEAD_BYTES,
      ttl: limits.ttlMs,
      updateAgeOnGet: true,
      dispose: (conversation, id) => this.forget(conversation.owner, id, conversation.bytes),
    });
  }

  /** The caller's conversation with this id; another caller's is treated as unknown. */
  async get(id: string, owner: string): Promise<Conversation | undefined> {
    const found = this.cache.get(id);
    return found && found.owner === owner ? found : undefined;
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
    const next = { id: conversation.id, owner: conversation.owner, turns: kept, dropped: conversation.dropped + excess, bytes: bytesOf(kept) };
    this.cache.set(next.id, next);
    const mine = this.owned.get(next.owner) ?? { ids: new Set<string>(), bytes: 0 };
    mine.ids.add(next.id);
    mine.bytes += next.bytes;
    this.owned.set(next.owner, mine);
    // The owner's other conversations, least recently used first (a Set keeps insertion order).
    for (const id of mine.ids) {
      if (mine.bytes <= this.limits.maxBytesPerOwner) break;
      if (id !== next.id) this.cache.delete(id);
    }
    return next;
  }

  private forget(owner: string, id: string, bytes: number): void {
    const mine = this.owned.get(owner);
    if (!mine?.ids.delete(id)) return;
    mine.bytes -= bytes;
    if (mine.ids.size === 0) this.owned.delete(owner);
  }
}
