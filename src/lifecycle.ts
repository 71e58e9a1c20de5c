import { AsyncLocalStorage } from "node:async_hooks";
import type { Caller } from "./caller.js";

/** Counts work in flight so a shutdown can wait for it, up to a bound. */
export class InFlight {
  private count = 0;
  private waiters: Array<() => void> = [];

  get size(): number {
    return this.count;
  }

  async track<T>(work: Promise<T>): Promise<T> {
    this.count++;
    try {
      return await work;
    } finally {
      this.count--;
      if (this.count === 0) for (const wake of this.waiters.splice(0)) wake();
    }
  }

  /** Resolves true when nothing is in flight, false if `timeoutMs` passed first. */
  drained(timeoutMs: number): Promise<boolean> {
    if (this.count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}

/** Counts open legacy-SSE streams (fastmcp keeps no per-transport count). */
export class StreamCounter {
  open = 0;

  track(res: { once(event: "close", listener: () => void): unknown }): void {
    this.open++;
    res.once("close", () => this.open--);
  }
}

/**
 * What the HTTP request carrying an MCP message knows, for the tool call it may start:
 * - `caller`: who sent it (checked by the front door); what the call creates is bound to it.
 * - `signal`: aborts when the client drops that request's connection before its answer. The SDK
 *   only cancels a tool on notifications/cancelled or when the whole session closes, so without it
 *   a vanished streamable-HTTP client would leave the model generating.
 * - `endResponse`: ends that request's response, for a call the client cancelled (the SDK writes
 *   no answer to a cancelled request, and would otherwise keep its stream open until the session ends).
 * - `holdSession`: keeps the request's session from being reaped as idle while the call runs.
 */
export type RequestScope = { caller: Caller; signal: AbortSignal; endResponse(): void; holdSession(): () => void };

export const requestScope = new AsyncLocalStorage<RequestScope>();
