/** Small statistics helpers: percentiles by nearest rank, medians, rounding for reports. */

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export type Summary = { n: number; p50: number; p95: number; p99: number; min: number; max: number };

export function summarize(values: number[]): Summary {
  return {
    n: values.length,
    p50: round(percentile(values, 50)),
    p95: round(percentile(values, 95)),
    p99: round(percentile(values, 99)),
    min: round(Math.min(...values)),
    max: round(Math.max(...values)),
  };
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Milliseconds on CLOCK_MONOTONIC, comparable between processes on the same machine. */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export function mib(bytes: number): number {
  return round(bytes / 1048576, 1);
}

/** A number with its sign always shown: +3.2, -0.1. */
export function signed(value: number): string {
  return value < 0 ? String(value) : `+${value}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `count` jobs with at most `concurrency` at once; resolves with their results in order. */
export async function pool<T>(count: number, concurrency: number, job: (index: number, worker: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  const worker = async (w: number) => {
    while (next < count) {
      const index = next++;
      results[index] = await job(index, w);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, (_, w) => worker(w)));
  return results;
}

export function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}
