import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { startGateway } from "./procs.js";
import { closeSession, initialize } from "./rawMcp.js";
import { log, type Summary, summarize } from "./stats.js";

/**
 * stateful/stateless: the `initialize` POST alone. handshake: what a client waits before its
 * first answer — the SDK's connect() (initialize + notifications/initialized) and a tools/list.
 */
export type InitializeResult = { stateful: Summary; stateless: Summary; handshake: { stateful: Summary; stateless: Summary } };

/** connect() + tools/list with the official SDK client, then the session is closed (untimed). */
async function handshake(baseUrl: string): Promise<number> {
  const started = performance.now();
  const client = new Client({ name: "mcp-lab-bench", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`));
  await client.connect(transport);
  await client.listTools();
  const ms = performance.now() - started;
  await transport.terminateSession().catch(() => undefined);
  await client.close();
  return ms;
}

async function measure(urls: { stateful: string; stateless: string }, samples: number) {
  const times = { stateful: [] as number[], stateless: [] as number[], hsStateful: [] as number[], hsStateless: [] as number[] };
  for (let i = 0; i < samples + 20; i++) {
    const a = await initialize(urls.stateful);
    if (a.sessionId) await closeSession(urls.stateful, a.sessionId);
    const b = await initialize(urls.stateless);
    const handshakes = i % 4 === 0 ? [await handshake(urls.stateful), await handshake(urls.stateless)] : [];
    if (i < 20) continue; // warm-up
    times.stateful.push(a.ms);
    times.stateless.push(b.ms);
    if (handshakes.length) {
      times.hsStateful.push(handshakes[0]!);
      times.hsStateless.push(handshakes[1]!);
    }
  }
  return times;
}

/**
 * Against a stateful and a stateless gateway, alternating one of each: the `initialize` round
 * trip (POST, whole answer read; stateful sessions closed with DELETE after each, untimed), and
 * every fourth time the whole SDK handshake.
 */
export async function runInitialize(providerUrl: string, samples: number): Promise<InitializeResult> {
  const stateful = await startGateway({ OLLAMA_BASE_URL: providerUrl });
  try {
    const stateless = await startGateway({ OLLAMA_BASE_URL: providerUrl, MCP_STATELESS: "true" });
    try {
      const t = await measure({ stateful: stateful.url, stateless: stateless.url }, samples);
      const result = {
        stateful: summarize(t.stateful),
        stateless: summarize(t.stateless),
        handshake: { stateful: summarize(t.hsStateful), stateless: summarize(t.hsStateless) },
      };
      log(
        `  initialize p50: stateful ${result.stateful.p50} ms, stateless ${result.stateless.p50} ms; handshake ${result.handshake.stateful.p50} / ${result.handshake.stateless.p50} ms`,
      );
      return result;
    } finally {
      await stateless.stop();
    }
  } finally {
    await stateful.stop();
  }
}
