import type { Caller } from "../caller.js";

/** What the registry needs of an MCP session (fastmcp's FastMCPSession has both). */
export type SessionHandle = { readonly sessionId: string | undefined; close(): Promise<void> };

type Entry = { handle: SessionHandle; owner: string; address: string; lastActivity: number; busy: number; id?: string };

/**
 * The open MCP sessions of both HTTP transports, each bound to the caller that opened it: who owns
 * a session id, how many sessions each caller and each address holds, and which sessions have been
 * idle too long. Idle means no request from the client and no call running: the server's own pings
 * and an open listening stream do not count, so neither transport can be held open by a client that
 * does nothing.
 */
export class SessionRegistry {
  private readonly entries = new Map<SessionHandle, Entry>();
  private readonly byId = new Map<string, Entry>();
  /** Streamable sessions learn their id while answering `initialize`, after they connect. */
  private readonly unindexed = new Set<Entry>();
  private readonly perOwner = new Map<string, number>();
  private readonly perAddress = new Map<string, number>();

  constructor(
    private readonly idleMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  opened(handle: SessionHandle, caller: Caller): void {
    if (this.entries.has(handle)) return;
    const entry = { handle, owner: caller.id, address: caller.address, lastActivity: this.now(), busy: 0 };
    this.entries.set(handle, entry);
    this.unindexed.add(entry);
    bump(this.perOwner, entry.owner, 1);
    bump(this.perAddress, entry.address, 1);
  }

  closed(handle: SessionHandle): void {
    const entry = this.entries.get(handle);
    if (!entry) return;
    this.entries.delete(handle);
    this.unindexed.delete(entry);
    if (entry.id !== undefined) this.byId.delete(entry.id);
    bump(this.perOwner, entry.owner, -1);
    bump(this.perAddress, entry.address, -1);
  }

  /** The owner of a session id, or undefined when no open session has it. */
  ownerOf(sessionId: string): string | undefined {
    return this.find(sessionId)?.owner;
  }

  heldBy(caller: Caller): { byOwner: number; byAddress: number } {
    return { byOwner: this.perOwner.get(caller.id) ?? 0, byAddress: this.perAddress.get(caller.address) ?? 0 };
  }

  /** Marks the session active now and busy until the returned release is called. */
  hold(sessionId: string): () => void {
    const entry = this.find(sessionId);
    if (!entry) return () => undefined;
    entry.lastActivity = this.now();
    entry.busy++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      entry.busy--;
      entry.lastActivity = this.now();
    };
  }

  /** Closes every session idle for longer than the idle timeout. */
  async sweep(now = this.now()): Promise<number> {
    const idle = [...this.entries.values()].filter((entry) => entry.busy === 0 && now - entry.lastActivity > this.idleMs);
    await Promise.all(idle.map((entry) => entry.handle.close().catch(() => undefined)));
    for (const entry of idle) this.closed(entry.handle);
    return idle.length;
  }

  /** Sweeps every `intervalMs` until the returned function is called. */
  startReaper(intervalMs = Math.min(60_000, Math.max(250, this.idleMs / 2))): () => void {
    const timer = setInterval(() => void this.sweep(), intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  private find(sessionId: string): Entry | undefined {
    const known = this.byId.get(sessionId);
    if (known) return known;
    for (const entry of this.unindexed) {
      const id = entry.handle.sessionId;
      if (id === undefined) continue;
      entry.id = id;
      this.byId.set(id, entry);
      this.unindexed.delete(entry);
    }
    return this.byId.get(sessionId);
  }
}

function bump(counts: Map<string, number>, key: string, delta: number): void {
  const next = (counts.get(key) ?? 0) + delta;
  if (next <= 0) counts.delete(key);
  else counts.set(key, next);
}
