import { LlmError } from "../errors.js";
import type { ProviderName } from "../types.js";

type Waiter = { owner: string; resolve: () => void; reject: (error: Error) => void; timer: NodeJS.Timeout; signal?: AbortSignal; onAbort?: () => void };

export type LimiterOptions = { concurrency: number; queueMax: number; queueMaxPerOwner: number; queueTimeoutMs: number };

/**
 * At most `concurrency` calls to one provider at a time; up to `queueMax` more wait their turn
 * (`queueMaxPerOwner` of them from one caller), each for at most `queueTimeoutMs`. A freed slot goes
 * to the waiting caller with the fewest calls running, so one caller's burst cannot starve the
 * others. A call beyond the limits fails at once with a message, never hangs.
 */
export class ConcurrencyLimiter {
  private active = 0;
  private readonly queue: Waiter[] = [];
  private readonly runningBy = new Map<string, number>();
  private readonly waitingBy = new Map<string, number>();

  constructor(
    readonly provider: ProviderName,
    private readonly options: LimiterOptions,
  ) {}

  get running(): number {
    return this.active;
  }

  get waiting(): number {
    return this.queue.length;
  }

  async run<T>(work: () => Promise<T>, signal?: AbortSignal, owner = "anyone"): Promise<T> {
    await this.acquire(owner, signal);
    try {
      return await work();
    } finally {
      this.release(owner);
    }
  }

  private acquire(owner: string, signal?: AbortSignal): Promise<void> {
    if (this.active < this.options.concurrency) {
      this.start(owner);
      return Promise.resolve();
    }
    const details = { provider: this.provider };
    const { queueMax, queueMaxPerOwner } = this.options;
    if (this.queue.length >= queueMax) {
      const message = `${this.provider} is busy: ${this.active} calls running and ${this.queue.length} waiting (OLLAMA_CONCURRENCY / OPENAI_CONCURRENCY, LLM_QUEUE_MAX). Try again shortly.`;
      return Promise.reject(new LlmError("queue_full", message, details));
    }
    if ((this.waitingBy.get(owner) ?? 0) >= queueMaxPerOwner) {
      const message = `You already have ${queueMaxPerOwner} calls waiting for ${this.provider} (LLM_QUEUE_MAX_PER_TOKEN). Wait for them to finish, then try again.`;
      return Promise.reject(new LlmError("queue_full", message, details));
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { owner, resolve, reject, signal, timer: setTimeout(() => this.drop(waiter, this.timedOut()), this.options.queueTimeoutMs) };
      if (signal) {
        waiter.onAbort = () => this.drop(waiter, new LlmError("cancelled", "The request was cancelled while waiting for a free slot.", details));
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      this.queue.push(waiter);
      bump(this.waitingBy, owner, 1);
    });
  }

  private timedOut(): LlmError {
    return new LlmError(
      "queue_full",
      `Waited ${this.options.queueTimeoutMs} ms for a free ${this.provider} slot (LLM_QUEUE_TIMEOUT_MS); the provider is busy with other calls. Try again, or raise the concurrency limit.`,
      { provider: this.provider },
    );
  }

  private drop(waiter: Waiter, error: Error): void {
    const index = this.queue.indexOf(waiter);
    if (index === -1) return;
    this.queue.splice(index, 1);
    this.settle(waiter);
    waiter.reject(error);
  }

  private start(owner: string): void {
    this.active++;
    bump(this.runningBy, owner, 1);
  }

  private release(owner: string): void {
    this.active--;
    bump(this.runningBy, owner, -1);
    const next = this.nextWaiter();
    if (!next) return;
    this.queue.splice(this.queue.indexOf(next), 1);
    this.settle(next);
    this.start(next.owner);
    next.resolve();
  }

  /** The oldest waiter of the caller with the fewest calls running. */
  private nextWaiter(): Waiter | undefined {
    let best: Waiter | undefined;
    for (const waiter of this.queue) {
      if (!best || (this.runningBy.get(waiter.owner) ?? 0) < (this.runningBy.get(best.owner) ?? 0)) best = waiter;
    }
    return best;
  }

  private settle(waiter: Waiter): void {
    clearTimeout(waiter.timer);
    bump(this.waitingBy, waiter.owner, -1);
    if (waiter.onAbort) waiter.signal?.removeEventListener("abort", waiter.onAbort);
  }
}

function bump(counts: Map<string, number>, key: string, delta: number): void {
  const next = (counts.get(key) ?? 0) + delta;
  if (next <= 0) counts.delete(key);
  else counts.set(key, next);
}
