import { randomUUID } from "node:crypto";
import { LRUCache } from "lru-cache";
import type { ChatMessage } from "./types.js";

export type Conversation = { id: string; turns: Array<[ChatMessage, ChatMessage]>; dropped: number };

/**
 * Conversations kept in memory for a while (TTL from the last turn), each capped at `maxTurns`
 * user/assistant pairs: older turns are dropped first. Lost on restart, and not shared between
 * replicas.
 */
export class ConversationStore {
  private readonly cache: LRUCache<string, Conversation>;

  constructor(
    ttlMs: number,
    private readonly maxTurns: number,
    maxConversations = 1_000,
  ) {
    this.cache = new LRUCache({ max: maxConversations, ttl: ttlMs, updateAgeOnGet: true });
  }

  get(id: string): Conversation | undefined {
    return this.cache.get(id);
  }

  start(): Conversation {
    return { id: randomUUID(), turns: [], dropped: 0 };
  }

  history(conversation: Conversation): ChatMessage[] {
    return conversation.turns.flat();
  }

  record(conversation: Conversation, user: ChatMessage, assistant: ChatMessage): Conversation {
    const turns = [...conversation.turns, [user, assistant] as [ChatMessage, ChatMessage]];
    const excess = Math.max(0, turns.length - this.maxTurns);
    const next = { id: conversation.id, turns: turns.slice(excess), dropped: conversation.dropped + excess };
    this.cache.set(conversation.id, next);
    return next;
  }
}
