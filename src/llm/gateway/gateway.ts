import { LlmError, toLlmError } from "../errors.js";
import type { ChatRequest, ChatResult, ProviderName } from "../types.js";
import { type CallCaps, clampCall } from "./clamp.js";
import type { ConcurrencyLimiter } from "./limiter.js";
import { decideRetry, type RetryPolicy, sleep } from "./retry.js";
import type { ModelRouter, ResolvedModel } from "./router.js";

export type ChatCall = Omit<ChatRequest, "model"> & {
  /** Whose call this is: the provider's slots and queue are shared fairly between owners. */
  owner?: string;
};

export type Fallback = { model: string; reason: string };

/** Who a call is for and when it may still be tried again. */
export type ExchangeCall = {
  signal?: AbortSignal;
  /** Whose call this is: the provider's slots and queue are shared fairly between owners. */
  owner?: string;
  /** True once part of the answer has reached the client: from then on a failure is final. */
  committed?: () => boolean;
};

/** One try at one model: resolves with what it produced, or throws (an LlmError, ideally). */
export type Attempt<T> = (target: ResolvedModel, signal: AbortSignal | undefined) => Promise<T>;

export type Exchanged<T> = { value: T; target: ResolvedModel; retries: number; fellBackFrom: Fallback[] };

export type GatewayResult = ChatResult & {
  provider: ProviderName;
  qualifiedName: string;
  retries: number;
  /** The models that failed before the one that answered, and why. */
  fellBackFrom: Fallback[];
  /** Knobs the server lowered to its limits, each said in words. */
  adjustments: string[];
};

export type GatewayOptions = {
  policy: RetryPolicy;
  fallbackModels: string[];
  localOnly: boolean;
  caps: CallCaps;
  observer?: {
    result(provider: ProviderName, result: ChatResult): void;
    error(provider: ProviderName, error: LlmError): void;
    retry(target: ResolvedModel, error: LlmError, delayMs: number): void;
  };
};

/** Errors that another model would not fix. */
const FINAL = new Set(["cancelled", "bad_request", "not_allowed", "not_configured", "auth"]);

/**
 * Every model call goes through here: LOCAL_ONLY, the provider's concurrency limit, the one retry
 * loop, and FALLBACK_MODELS, in that order.
 */
export class LlmGateway {
  constructor(
    private readonly router: ModelRouter,
    private readonly limiters: Record<ProviderName, ConcurrencyLimiter>,
    private readonly options: GatewayOptions,
  ) {}

  /** Resolves a model name, refusing cloud providers before any byte leaves when LOCAL_ONLY is set. */
  resolve(name: string): ResolvedModel {
    const target = this.router.resolve(name);
    if (this.options.localOnly && !target.provider.isLocal) {
      throw new LlmError(
        "not_allowed",
        `LOCAL_ONLY=true: '${target.qualifiedName}' would send the prompt to ${target.provider.name}, off this machine. Use a local Ollama model, or set LOCAL_ONLY=false.`,
        { provider: target.provider.name, model: target.model },
      );
    }
    return target;
  }

  /** Asks `primary` (from `resolve`), then each of FALLBACK_MODELS unless `fallbacks` is false. */
  async chat(primary: ResolvedModel, call: ChatCall, { fallbacks = true }: { fallbacks?: boolean } = {}): Promise<GatewayResult> {
    rejectForeignOptions(primary, call);
    let adjustments: string[] = [];
    const { value, target, retries, fellBackFrom } = await this.exchange(
      primary,
      call,
      async (target, signal) => {
        const wanted = target === primary ? call : ollamaOptionsOnlyFor(target, call);
        const contextLength = wanted.numCtx === undefined ? undefined : await target.provider.contextLength?.(target.model, signal);
        const { call: capped, notes } = clampCall(wanted, this.options.caps, contextLength);
        adjustments = notes;
        const { owner: _owner, ...request } = capped;
        const result = await target.provider.chat({ ...request, model: target.model });
        this.options.observer?.result(target.provider.name, result);
        return result;
      },
      { fallbacks },
    );
    return { ...value, provider: target.provider.name, qualifiedName: target.qualifiedName, retries, fellBackFrom, adjustments };
  }

  /**
   * The loop every model call runs, whatever it sends: `attempt` is called for `primary`, inside one
   * of the provider's fair slots, retried as the policy says, then for each of FALLBACK_MODELS
   * (unless `fallbacks` is false). Once `call.committed()` is true (part of an answer has reached the
   * client) a failure is final: nothing is retried and no other model is asked.
   */
  async exchange<T>(
    primary: ResolvedModel,
    call: ExchangeCall,
    attempt: Attempt<T>,
    { fallbacks = true }: { fallbacks?: boolean } = {},
  ): Promise<Exchanged<T>> {
    const fellBackFrom: Fallback[] = [];
    let firstError: LlmError | undefined;
    for (const target of [primary, ...(fallbacks ? this.fallbacksFor(primary) : [])]) {
      try {
        const { value, retries } = await this.withRetries(target, call, attempt);
        return { value, target, retries, fellBackFrom };
      } catch (error) {
        const failure = asLlmError(error, target);
        if ((FINAL.has(failure.kind) && target === primary) || call.committed?.()) throw failure;
        firstError ??= failure;
        fellBackFrom.push({ model: target.qualifiedName, reason: failure.message });
        if (call.signal?.aborted) break;
      }
    }
    if (fellBackFrom.length > 1) {
      const tried = fellBackFrom.map((f) => `${f.model}: ${f.reason}`).join("\n");
      throw new LlmError(firstError!.kind, `Every model failed.\n${tried}`, firstError!.details);
    }
    throw firstError!;
  }

  private fallbacksFor(primary: ResolvedModel): ResolvedModel[] {
    return this.options.fallbackModels
      .map((name) => this.router.resolve(name))
      .filter((target) => target.qualifiedName !== primary.qualifiedName)
      .filter((target) => !(this.options.localOnly && !target.provider.isLocal));
  }

  private async withRetries<T>(target: ResolvedModel, call: ExchangeCall, attempt: Attempt<T>): Promise<{ value: T; retries: number }> {
    const limiter = this.limiters[target.provider.name];
    for (let retries = 0; ; retries++) {
      try {
        return { value: await limiter.run(() => attempt(target, call.signal), call.signal, call.owner), retries };
      } catch (error) {
        const failure = asLlmError(error, target);
        this.options.observer?.error(target.provider.name, failure);
        const decision = decideRetry(failure, retries, this.options.policy);
        if (!decision.retry || call.signal?.aborted || call.committed?.()) throw failure;
        this.options.observer?.retry(target, failure, decision.delayMs);
        await sleep(decision.delayMs, call.signal).catch(() => {
          throw new LlmError("cancelled", "The request was cancelled while waiting to retry.", failure.details);
        });
      }
    }
  }
}

function asLlmError(error: unknown, target: ResolvedModel): LlmError {
  return toLlmError(error, { provider: target.provider.name, baseUrl: "", model: target.model });
}

function rejectForeignOptions(target: ResolvedModel, call: ChatCall): void {
  if (target.provider.name !== "ollama" && (call.numCtx !== undefined || call.keepAlive !== undefined)) {
    throw new LlmError(
      "bad_request",
      `num_ctx and keep_alive are Ollama options; '${target.qualifiedName}' does not take them. Leave them out for ${target.provider.name} models.`,
      {
        provider: target.provider.name,
        model: target.model,
      },
    );
  }
}

/** A fallback to a cloud model drops the Ollama-only options rather than failing. */
function ollamaOptionsOnlyFor(target: ResolvedModel, call: ChatCall): ChatCall {
  if (target.provider.name === "ollama") return call;
  const { numCtx: _numCtx, keepAlive: _keepAlive, ...rest } = call;
  return rest;
}
