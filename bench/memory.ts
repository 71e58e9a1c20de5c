import { spawn } from "node:child_process";
import { ROOT, rssOf, startGateway, stopChild, track } from "./procs.js";
import { closeSession, openSession } from "./rawMcp.js";
import { log, median, pool, sleep } from "./stats.js";

export type MemoryResult = {
  bareNodeBytes: number;
  fastmcpImportBytes: number;
  /** RSS of a process importing fastmcp and one more of our dependencies, by dependency. */
  importWithFastmcpBytes: Record<string, number>;
  /** Median idle RSS of three fresh gateways. */
  idleBytes: number;
  /** Idle RSS of the gateway the sessions below were run against (the baseline of its after-churn ratio). */
  churnedGatewayIdleBytes: number;
  with1000OpenBytes: number;
  after1000ClosedBytes: number;
  /** Sessions opened and closed after the first 1,000 were closed. */
  churn: number;
  /** 2 s after the last of the `churn` sessions closed. */
  afterChurnBytes: number;
  /** After SETTLE_MS more of idling: what the server holds once the burst is over. */
  afterChurnSettledBytes: number;
  sessionsPerSecond: number;
  /** The server's own mcp_open_sessions gauge (/metrics) with the 1,000 open, and after the churn. */
  openSessionsReported: { with1000Open: number; afterChurn: number };
};

async function openSessionsGauge(baseUrl: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  return text
    .split("\n")
    .filter((line) => line.startsWith("mcp_open_sessions{"))
    .reduce((sum, line) => sum + Number(line.split(" ").at(-1)), 0);
}

/** Median of a few VmRSS readings a quarter of a second apart, after `settleMs`. */
async function settledRss(pid: number, settleMs: number): Promise<number> {
  await sleep(settleMs);
  const readings: number[] = [];
  for (let i = 0; i < 5; i++) {
    readings.push(rssOf(pid));
    await sleep(250);
  }
  return median(readings);
}

/** RSS of a child `node` that runs `code` (an ES module) and then idles: the baseline processes. Median of `repeats` children. */
async function childRss(code: string, repeats: number): Promise<number> {
  const readings: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const child = track(
      spawn(process.execPath, ["--input-type=module", "-e", `${code}\nconsole.log("ready"); setInterval(() => {}, 1000);`], {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "inherit"],
      }),
    );
    await new Promise((resolve) => child.stdout!.once("data", resolve));
    readings.push(await settledRss(child.pid!, 1000));
    await stopChild(child);
  }
  return median(readings);
}

/** V8's memory reducer looks every 8 s and acts once allocation has been low for a while: 10-20 s after a burst. */
export const SETTLE_MS = 25_000;

async function idleGatewayRss(providerUrl: string, withImageFlags: boolean): Promise<number> {
  const gateway = await startGateway({ OLLAMA_BASE_URL: providerUrl }, [], withImageFlags);
  try {
    return await settledRss(gateway.pid, 1500);
  } finally {
    await gateway.stop();
  }
}

export type MemoryPlan = {
  /** Sessions opened and closed after the first 1,000. */
  churn: number;
  /** Start the gateway with the Dockerfile's node flags (IMAGE_NODE_ARGS). */
  withImageFlags: boolean;
  /** Children per baseline process (bare node, fastmcp, fastmcp + one dependency), 0 for none; the median counts. */
  baselineRepeats: number;
};

/**
 * Idle RSS of fresh gateways; with 1,000 streamable-HTTP sessions open (initialize +
 * initialized, raw HTTP); after closing them (DELETE); and after `churn` more opened and closed
 * in batches. Baselines in the same run: a bare `node`, and a `node` that only imports fastmcp.
 */
export async function runMemory(providerUrl: string, plan: MemoryPlan): Promise<MemoryResult> {
  const { churn, withImageFlags, baselineRepeats: repeats } = plan;
  const bareNodeBytes = repeats ? await childRss("", repeats) : Number.NaN;
  const fastmcpImportBytes = repeats ? await childRss("await import('fastmcp');", repeats) : Number.NaN;
  const importWithFastmcpBytes: Record<string, number> = {};
  for (const dep of repeats ? ["openai", "undici", "prom-client"] : [])
    importWithFastmcpBytes[dep] = await childRss(`await import('fastmcp'); await import('${dep}');`, repeats);
  const idles = [await idleGatewayRss(providerUrl, withImageFlags), await idleGatewayRss(providerUrl, withImageFlags)];
  const gateway = await startGateway({ OLLAMA_BASE_URL: providerUrl }, [], withImageFlags);
  try {
    const churnedGatewayIdleBytes = await settledRss(gateway.pid, 1500);
    const idleBytes = median([...idles, churnedGatewayIdleBytes]);
    const open = await pool(1000, 16, () => openSession(gateway.url));
    const with1000OpenBytes = await settledRss(gateway.pid, 1000);
    const with1000Open = await openSessionsGauge(gateway.url);
    await pool(open.length, 16, (i) => closeSession(gateway.url, open[i]!));
    const after1000ClosedBytes = await settledRss(gateway.pid, 1000);
    const started = performance.now();
    await pool(churn, 16, async () => closeSession(gateway.url, await openSession(gateway.url)));
    const sessionsPerSecond = Math.round(churn / ((performance.now() - started) / 1000));
    const afterChurnBytes = await settledRss(gateway.pid, 2000);
    const openSessionsReported = { with1000Open, afterChurn: await openSessionsGauge(gateway.url) };
    const afterChurnSettledBytes = await settledRss(gateway.pid, SETTLE_MS);
    const mb = (bytes: number) => (bytes / 1048576).toFixed(1);
    log(
      `  memory${withImageFlags ? "" : " (without the image's node flags)"}: idle ${mb(idleBytes)} MB (this one ${mb(churnedGatewayIdleBytes)} MB), 1000 open ${mb(with1000OpenBytes)} MB, after ${churn} ${mb(afterChurnBytes)} MB, settled ${mb(afterChurnSettledBytes)} MB`,
    );
    return {
      bareNodeBytes,
      fastmcpImportBytes,
      importWithFastmcpBytes,
      idleBytes,
      churnedGatewayIdleBytes,
      with1000OpenBytes,
      after1000ClosedBytes,
      churn,
      afterChurnBytes,
      afterChurnSettledBytes,
      sessionsPerSecond,
      openSessionsReported,
    };
  } finally {
    await gateway.stop();
  }
}
