import { Writable } from "node:stream";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { RequestOptions } from "@modelcontextprotocol/sdk/shared/protocol.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { type RunningServer, startServer } from "../../src/main.js";
import type { Seams } from "../../src/services/services.js";
import { OllamaStandIn } from "./ollamaStandIn.js";
import { freshDataDir, removeDataDir } from "./state.js";

export type TestServer = RunningServer & { url: string; logs: Array<Record<string, unknown>> };

/**
 * Starts the real server in-process on a free loopback port, with its JSON log lines captured.
 * READY_TIMEOUT_MS is 30 s unless `env` sets it: the default 2 s is a deadline an overloaded test
 * machine can miss on a loopback call, and only the tests of that deadline should depend on it.
 */
export async function startTestServer(env: Record<string, string> = {}, seams: Seams = {}): Promise<TestServer> {
  const ownDataDir = env.DATA_DIR || env.DATABASE_URL ? undefined : await freshDataDir();
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "debug",
    READY_TIMEOUT_MS: "30000",
    ...(ownDataDir && { DATA_DIR: ownDataDir }),
    ...env,
  });
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const running = await startServer(config, createLogger(config.logLevel, sink), seams);
  const shutdown = running.shutdown;
  const stop = async (reason: string) => {
    await shutdown(reason);
    if (ownDataDir) removeDataDir(ownDataDir);
  };
  return Object.assign(running, { url: `http://127.0.0.1:${running.http!.port}`, logs, shutdown: stop });
}

export type TransportKind = "streamable-http" | "sse";

/** A client connected over `kind`; `options` (e.g. a longer `timeout` than the SDK's 60 s) apply to its `initialize`. */
export async function connectClient(baseUrl: string, kind: TransportKind, headers: Record<string, string> = {}, options?: RequestOptions): Promise<Client> {
  const client = new Client({ name: "mcp-lab-test", version: "1.0.0" });
  const transport =
    kind === "sse"
      ? new SSEClientTransport(new URL(`${baseUrl}/sse`), {
          requestInit: { headers },
          eventSourceInit: { fetch: (url, init) => fetch(url, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } }) },
        })
      : new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`), { requestInit: { headers } });
  await client.connect(transport, options);
  return client;
}

export type ToolResult = {
  isError?: boolean;
  content: Array<{ type: string; text?: string }>;
  structuredContent?: Record<string, unknown>;
};

export async function callTool(client: Client, name: string, args: Record<string, unknown>, options?: RequestOptions): Promise<ToolResult & { text: string }> {
  const result = (await client.callTool({ name, arguments: args }, undefined, options)) as ToolResult;
  return { ...result, text: result.content.map((c) => c.text ?? "").join("") };
}

export type Stack = { ollama: OllamaStandIn; server: TestServer; client: Client; stop(): Promise<void> };

/**
 * The set-up most suites share: an Ollama stand-in, the server against it (more variables in
 * `env`, which may depend on the stand-in), a client over `kind` (sending `headers`); `stop()` ends them in order.
 */
export async function startWithStandIn(
  env: Record<string, string> | ((ollama: OllamaStandIn) => Record<string, string>) = {},
  kind: TransportKind = "streamable-http",
  headers: Record<string, string> = {},
): Promise<Stack> {
  const ollama = await new OllamaStandIn().start();
  const server = await startTestServer({ OLLAMA_BASE_URL: ollama.baseUrl, ...(typeof env === "function" ? env(ollama) : env) });
  const client = await connectClient(server.url, kind, headers);
  return {
    ollama,
    server,
    client,
    async stop() {
      await client.close();
      await server.shutdown("test over");
      await ollama.stop();
    },
  };
}
