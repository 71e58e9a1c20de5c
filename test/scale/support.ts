import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { RequestOptions } from "@modelcontextprotocol/sdk/shared/protocol.js";
import { freePort } from "../support/ports.js";

export { type ChildServer, startChildServer, stopChild } from "../support/spawn.js";
export { freePort };

import { sleep } from "../support/wait.js";

export { sleep, until, waitFor } from "../support/wait.js";

/** Helpers shared by the scale, fault, replica and secret tests under test/scale/. */

/** The value below which `p` percent of `values` fall (nearest rank). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * A full garbage collection, also when the worker was started without --expose-gc: the flag can
 * be switched on at run time, and a new V8 context then sees `gc`.
 */
export function collectGarbage(): void {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as (() => void) | undefined;
  gc?.();
}

/** A streamable-HTTP client that keeps its transport, so a test can end the session with DELETE. */
export async function connectStreamable(
  baseUrl: string,
  headers: Record<string, string> = {},
  options?: RequestOptions,
): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name: "mcp-lab-scale", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`), { requestInit: { headers } });
  await client.connect(transport, options);
  return { client, transport };
}

/** Runs `work` for every item, at most `limit` at once. */
export async function inBatches<T, R>(items: T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/** The absolute path of an executable on PATH (or Debian's sbin folders, where nginx lives), if any. */
export function findExecutable(name: string): string | undefined {
  const folders = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/local/sbin", "/sbin"].filter(Boolean);
  for (const folder of folders) {
    const candidate = join(folder, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The heap after dropping what the test itself recorded (`forget`), collected until it settles. */
export async function settledHeap(forget: () => void): Promise<NodeJS.MemoryUsage> {
  forget();
  let best = Infinity;
  let usage = process.memoryUsage();
  for (let i = 0; i < 4; i++) {
    await sleep(100);
    collectGarbage();
    usage = process.memoryUsage();
    if (usage.heapUsed > best - 256 * 1024) break;
    best = usage.heapUsed;
  }
  return usage;
}
