import { LlmError } from "../errors.js";
import type { ProviderName } from "../types.js";

export type StreamLimits = { firstTokenMs: number; idleMs: number; totalMs: number };

type Limit = { variable: string; describe: (ms: number) => string };

const LIMITS = {
  firstToken: { variable: "LLM_FIRST_TOKEN_TIMEOUT_MS", describe: (ms: number) => `sent no first token within ${ms} ms (model load included)` },
  idle: { variable: "LLM_IDLE_TIMEOUT_MS", describe: (ms: number) => `went silent for ${ms} ms mid-answer` },
  total: { variable: "LLM_TOTAL_TIMEOUT_MS", describe: (ms: number) => `did not finish within ${ms} ms` },
} satisfies Record<string, Limit>;

/**
 * The deadlines of one streamed provider call: the first token, silence between tokens, and the
 * whole call. `signal` aborts when any of them, or the caller's own signal, fires; `failure`
 * then says which, and which variable raises it.
 */
export class StreamWatch {
  private readonly controller = new AbortController();
  private readonly timers = new Map<keyof typeof LIMITS, NodeJS.Timeout>();
  private hit: keyof typeof LIMITS | undefined;
  private readonly started = performance.now();
  firstTokenAt: number | undefined;
  readonly signal: AbortSignal;

  constructor(
    private readonly limits: StreamLimits,
    private readonly callerSignal: AbortSignal | undefined,
  ) {
    this.signal = callerSignal ? AbortSignal.any([callerSignal, this.controller.signal]) : this.controller.signal;
    this.arm("firstToken", limits.firstTokenMs);
    this.arm("total", limits.totalMs);
  }

  /** Call on every chunk that carries content or thinking. */
  token(): void {
    if (this.firstTokenAt === undefined) {
      this.firstTokenAt = performance.now();
      this.disarm("firstToken");
    }
    this.arm("idle", this.limits.idleMs);
  }

  get timeToFirstTokenMs(): number | undefined {
    return this.firstTokenAt === undefined ? undefined : Math.round(this.firstTokenAt - this.started);
  }

  get elapsedMs(): number {
    return Math.round(performance.now() - this.started);
  }

  /** The error to report for an abort, if the abort was ours or the caller's. */
  failure(provider: ProviderName, model: string): LlmError | undefined {
    if (this.hit) {
      const limit = LIMITS[this.hit];
      const ms = this.hit === "firstToken" ? this.limits.firstTokenMs : this.hit === "idle" ? this.limits.idleMs : this.limits.totalMs;
      return new LlmError("timeout", `${provider} model '${model}' ${limit.describe(ms)} (${limit.variable}). Raise ${limit.variable} for slow models.`, {
        provider,
        model,
      });
    }
    if (this.callerSignal?.aborted) return new LlmError("cancelled", "The request was cancelled before the model finished.", { provider, model });
    return undefined;
  }

  dispose(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private arm(which: keyof typeof LIMITS, ms: number): void {
    const armed = this.timers.get(which);
    // Re-armed on every token: restarting the same timer is cheaper than a new one.
    if (armed) return void armed.refresh();
    this.timers.set(
      which,
      setTimeout(() => {
        this.hit ??= which;
        this.controller.abort(new Error(`${which} timeout`));
      }, ms),
    );
  }

  private disarm(which: keyof typeof LIMITS): void {
    clearTimeout(this.timers.get(which));
    this.timers.delete(which);
  }
}
