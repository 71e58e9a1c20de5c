/**
 * A token bucket per client key: `perMinute` requests a minute on average, in bursts of up to
 * `perMinute`. At most `maxKeys` buckets are kept: the least recently used go first, so a flood of
 * distinct keys (addresses) costs a bounded amount of memory.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; updated: number }>();
  private readonly perMs: number;

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 10_000,
  ) {
    this.perMs = perMinute / 60_000;
  }

  get size(): number {
    return this.buckets.size;
  }

  /** 0 when the request may go ahead (and is counted), else the milliseconds until it may. */
  take(key: string): number {
    const waitMs = this.peek(key);
    if (waitMs === 0 && this.perMinute > 0) this.buckets.get(key)!.tokens -= 1;
    return waitMs;
  }

  /** Like `take`, without counting the request. */
  peek(key: string): number {
    if (this.perMinute === 0) return 0;
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.perMinute, updated: now };
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.updated) * this.perMs);
    bucket.updated = now;
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    return bucket.tokens >= 1 ? 0 : Math.ceil((1 - bucket.tokens) / this.perMs);
  }
}
