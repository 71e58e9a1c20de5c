import { LlmError } from "./errors.js";
import type { ProviderName } from "./types.js";

type Waiter = { resolve: () => void; reject: (error: Error) => void; timer: NodeJS.Timeout; signal?: AbortSignal; onAbort?: () => void };

/**
 * At most `concurrency` calls to one provider at a time; up to `queueMax` more wait their turn, each
 * for at most `queueTimeoutMs`. A call beyond that fails at once with a message, never hangs.
 */
export class ConcurrencyLimiter {
  private active = 0;
  private readonly queue: Waiter[] = [];

  constructor(
    readonly provider: ProviderName,
    private readonly concurrency: number,
    private readonly queueMax: number,
    private readonly queueTimeoutMs: number,
  ) {}

  get running(): number {
    return this.active;
  }

  get waiting(): number {
    return this.queue.length;
  }

  async run<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await work();
    } finally {
      this.release();
    }
  }

  private acquire(signal?: AbortSignal): Promise<void> {
    if (this.active < this.concurrency) {
      this.active++;
      return Promise.resolve();
    }
    const details = { provider: this.provider };
    if (this.queue.length >= this.queueMax) {
      const message = `${this.provider} is busy: ${this.active} calls running and ${this.queue.length} waiting (OLLAMA_CONCURRENCY / OPENAI_CONCURRENCY, LLM_QUEUE_MAX). Try again shortly.`;
      return Promise.reject(new LlmError("queue_full", message, details));
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, timer: setTimeout(() => this.drop(waiter, this.timedOut()), this.queueTimeoutMs) };
      if (signal) {
        waiter.onAbort = () => this.drop(waiter, new LlmError("cancelled", "The request was cancelled while waiting for a free slot.", details));
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      this.queue.push(waiter);
    });
  }

  private timedOut(): LlmError {
    return new LlmError(
      "queue_full",
      `Waited ${this.queueTimeoutMs} ms for a free ${this.provider} slot (LLM_QUEUE_TIMEOUT_MS); the provider is busy with other calls. Try again, or raise the concurrency limit.`,
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

  private release(): void {
    const next = this.queue.shift();
    if (!next) {
      this.active--;
      return;
    }
    this.settle(next);
    next.resolve();
  }

  private settle(waiter: Waiter): void {
    clearTimeout(waiter.timer);
    if (waiter.onAbort) waiter.signal?.removeEventListener("abort", waiter.onAbort);
  }
}
