import http from "node:http";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../src/config.js";
import { OllamaStandIn } from "../support/ollamaStandIn.js";
import { startTestServer, type TestServer, type ToolResult } from "../support/server.js";
import { collect, spawnServer } from "../support/spawn.js";
import { HANG_GUARD_MS, sleep } from "../support/wait.js";

/**
 * Secrets never leave the server: with OPENAI_API_KEY, MCP_AUTH_TOKEN and METRICS_TOKEN set to
 * recognisable values, every tool and error path is exercised (wrong and missing tokens, a
 * provider answering 401 — one that even echoes the key back —, 429 and 5xx, bad configuration),
 * and every log line (trace level), console line, HTTP response body and header, JSON-RPC error
 * and tool result is searched for them.
 */

const API_KEY = "sk-mcplab-SECRET-api-key-7f3a9c1e5b";
const AUTH_TOKEN = "mcplab-SECRET-auth-token-4d2e8b6a";
const METRICS_TOKEN = "mcplab-SECRET-metrics-token-9a1c0f";
const SECRETS = [API_KEY, AUTH_TOKEN, METRICS_TOKEN];
/** Their distinctive tails too: a key cut short or inside other text is still a leak. */
const NEEDLES = [...SECRETS, "7f3a9c1e5b", "4d2e8b6a", "9a1c0f", "SECRET-api", "SECRET-auth", "SECRET-metrics"];

const INIT = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } },
};
const MCP_HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };

/** Everything the outside world got to see. */
const seen: Array<{ where: string; text: string }> = [];
const pendingBodies: Array<Promise<void>> = [];
const see = (where: string, text: string) => void seen.push({ where, text });

/** A fetch that records every response's status, headers and body (streamed bodies once they end). */
const recordingFetch: typeof fetch = async (input, init) => {
  const response = await fetch(input, init);
  const where = `${init?.method ?? "GET"} ${String(input)} -> ${response.status}`;
  see(`${where} headers`, JSON.stringify([...response.headers]));
  pendingBodies.push(
    response
      .clone()
      .text()
      .then(
        (text) => see(`${where} body`, text),
        () => undefined,
      ),
  );
  return response;
};

/** One plain HTTP request (node:http, so a Host header can be set), recorded like the rest. */
function raw(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? "GET", headers: init.headers }, (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
      res.on("end", () => {
        const where = `raw ${init.method ?? "GET"} ${url} -> ${res.statusCode}`;
        see(`${where} headers`, JSON.stringify(res.headers));
        see(`${where} body`, text);
        resolve({ status: res.statusCode ?? 0 });
      });
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

async function connect(baseUrl: string, kind: "streamable-http" | "sse"): Promise<Client> {
  const headers = { authorization: `Bearer ${AUTH_TOKEN}` };
  const client = new Client({ name: "mcp-lab-secrets", version: "1.0.0" });
  const transport =
    kind === "sse"
      ? new SSEClientTransport(new URL(`${baseUrl}/sse`), {
          fetch: recordingFetch,
          requestInit: { headers },
          eventSourceInit: { fetch: (url, init) => recordingFetch(url, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } }) },
        })
      : new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`), { fetch: recordingFetch, requestInit: { headers } });
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => see("notifications/message", JSON.stringify(n)));
  await client.connect(transport);
  return client;
}

/** Calls a tool and records whatever comes back: result text, structuredContent, or the JSON-RPC error. */
async function call(client: Client, name: string, args: Record<string, unknown>): Promise<ToolResult & { text: string }> {
  try {
    const result = (await client.callTool({ name, arguments: args }, undefined, {
      onprogress: (p) => see(`${name} progress`, JSON.stringify(p)),
    })) as ToolResult;
    const text = result.content.map((c) => c.text ?? "").join("");
    see(`${name} result`, JSON.stringify(result));
    return { ...result, text };
  } catch (error) {
    const text = `${(error as Error).message} ${JSON.stringify(error)}`;
    see(`${name} error`, text);
    return { isError: true, content: [], text };
  }
}

function leaks(): Array<{ where: string; needle: string; excerpt: string }> {
  const found = [];
  for (const { where, text } of seen) {
    for (const needle of NEEDLES) {
      const at = text.indexOf(needle);
      if (at !== -1) found.push({ where, needle, excerpt: text.slice(Math.max(0, at - 120), at + needle.length + 40) });
    }
  }
  return found;
}

describe("secrets never appear in logs, responses or tool results", () => {
  let ollama: OllamaStandIn;
  let cloud: OllamaStandIn;
  let server: TestServer;
  let limited: TestServer;
  const consoleLines: string[] = [];

  beforeAll(async () => {
    // Whatever the server's dependencies print (mcp-proxy uses console) is recorded and searched too.
    for (const method of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, method).mockImplementation(
        (...args: unknown[]) => void consoleLines.push(args.map((a) => (a instanceof Error ? `${a.message} ${a.stack}` : String(a))).join(" ")),
      );
    }
    ollama = await new OllamaStandIn().start();
    cloud = await new OllamaStandIn().start();
    cloud.models.push({ ...cloud.models[0]!, name: "gpt-4o-mini" });
    const env = {
      OLLAMA_BASE_URL: ollama.baseUrl,
      OPENAI_BASE_URL: `${cloud.baseUrl}/v1`,
      OPENAI_API_KEY: API_KEY,
      MCP_AUTH_TOKEN: AUTH_TOKEN,
      METRICS_TOKEN,
      LOG_LEVEL: "trace",
      LLM_MAX_RETRIES: "1",
      LLM_RETRY_BASE_DELAY_MS: "10",
      MAX_BODY_BYTES: "2048",
      MODELS_CACHE_TTL_MS: "0",
      // This test sends wrong tokens on purpose, far more than the failed-login limit allows.
      AUTH_FAILURES_PER_MINUTE: "10000",
    };
    server = await startTestServer(env);
    limited = await startTestServer({ ...env, RATE_LIMIT_PER_MINUTE: "1" });
  });
  afterAll(async () => {
    await server?.shutdown("test over");
    await limited?.shutdown("test over");
    await ollama?.stop();
    await cloud?.stop();
    vi.restoreAllMocks();
  });

  type Failure = { standIn: OllamaStandIn; status: number; error: string; headers?: Record<string, string> };

  /** Makes a stand-in fail each way in turn, and calls every tool that reaches it. */
  async function provokeProviderFailures(streamable: Client, sse: Client, failures: Failure[]): Promise<void> {
    for (const failure of failures) {
      failure.standIn.behaviour.failWith = { status: failure.status, error: failure.error, headers: failure.headers };
      const model = failure.standIn === cloud ? "openai/gpt-4o-mini" : "qwen3:4b";
      const result = await call(streamable, "ask_llm", { prompt: "fail", model });
      expect(result.isError, `${failure.status}: ${result.text}`).toBe(true);
      await call(sse, "compare_models", { prompt: "fail", models: ["qwen3:4b", "openai/gpt-4o-mini"] });
      await call(sse, "list_models", { provider: failure.standIn === cloud ? "openai" : "ollama" });
      await call(sse, "list_models", {});
      failure.standIn.reset();
    }
  }

  /** Waits for recorded response bodies, adds the log and console lines, and returns every secret found. */
  async function leaksSoFar(): Promise<ReturnType<typeof leaks>> {
    // Every client is closed by now, so every body ends; the limit only guards against a hang.
    await Promise.race([Promise.all(pendingBodies.splice(0)), sleep(HANG_GUARD_MS)]);
    for (const line of [...server.logs.splice(0), ...limited.logs.splice(0)]) see("log line", JSON.stringify(line));
    for (const line of consoleLines.splice(0)) see("console", line);
    return leaks();
  }

  it("through every tool, provider failure, refused request and bad configuration", async () => {
    const streamable = await connect(server.url, "streamable-http");
    const sse = await connect(server.url, "sse");
    await streamable.setLoggingLevel("debug");

    for (const client of [streamable, sse]) {
      expect((await call(client, "add", { a: 1, b: 2 })).text).toBe("3");
      const asked = await call(client, "ask_llm", { prompt: "hello", system: "be brief" });
      expect(asked.isError).toBeFalsy();
      await call(client, "ask_llm", { prompt: "again", conversation_id: asked.structuredContent?.conversationId });
      expect((await call(client, "ask_llm", { prompt: "cloud", model: "openai/gpt-4o-mini" })).isError).toBeFalsy();
      await call(client, "ask_llm", { prompt: "native", think: false, num_ctx: 2048 });
      expect((await call(client, "compare_models", { prompt: "both", models: ["qwen3:4b", "openai/gpt-4o-mini"] })).isError).toBeFalsy();
      expect((await call(client, "list_models", {})).text).toContain("## openai");
      await call(client, "model_info", { model: "qwen3:4b" });
      await call(client, "model_info", { model: "openai/gpt-4o-mini" });
      await call(client, "pull_model", { model: "qwen3:4b" });
      await call(client, "pull_model", { model: "nonexistent:1b" });
      await call(client, "ask_llm", { prompt: "missing", model: "missing:7b" });
      await call(client, "ask_llm", {});
      await call(client, "no_such_tool", {});
    }
    // The key reached the provider, as it must: the secret was in play.
    expect(cloud.requests.some((r) => r.headers.authorization === `Bearer ${API_KEY}`)).toBe(true);

    // Provider failures: bad key (answered the way OpenAI does, the key masked), 403, 429 with
    // Retry-After, 5xx, and Ollama behind an auth proxy answering 401.
    await provokeProviderFailures(streamable, sse, [
      {
        standIn: cloud,
        status: 401,
        error: "Incorrect API key provided: sk-mcpl***********************e5b. You can find your API key at https://platform.openai.com/account/api-keys.",
      },
      { standIn: cloud, status: 403, error: "this key may not use this model" },
      { standIn: cloud, status: 429, error: "rate limit reached", headers: { "retry-after": "0" } },
      { standIn: cloud, status: 500, error: "upstream failed" },
      { standIn: ollama, status: 401, error: "unauthorized" },
    ]);
    await streamable.close();
    await sse.close();

    // Refused requests: no token, wrong tokens (one the real token plus a character, one the real
    // token in the wrong scheme), a foreign Host, a body too large, the metrics endpoint, the rate limit.
    const body = JSON.stringify(INIT);
    const wrongs = [
      undefined,
      "Bearer not-the-token-at-all-000",
      `Bearer ${AUTH_TOKEN}x`,
      `Bearer x${AUTH_TOKEN}`,
      `Basic ${AUTH_TOKEN}`,
      `Bearer ${METRICS_TOKEN}`,
      `Bearer ${API_KEY}`,
    ];
    for (const authorization of wrongs) {
      const headers: Record<string, string> = authorization ? { authorization } : {};
      expect((await raw(`${server.url}/mcp`, { method: "POST", headers: { ...MCP_HEADERS, ...headers }, body })).status).toBe(401);
      expect((await raw(`${server.url}/sse`, { headers })).status).toBe(401);
      expect(
        (await raw(`${server.url}/messages?sessionId=x`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: "{}" })).status,
      ).toBe(401);
      expect((await raw(`${server.url}/metrics`, { headers })).status).toBe(authorization === `Bearer ${METRICS_TOKEN}` ? 200 : 401);
    }
    const auth = { authorization: `Bearer ${AUTH_TOKEN}` };
    expect((await raw(`${server.url}/mcp`, { method: "POST", headers: { ...MCP_HEADERS, ...auth, host: "evil.example" }, body })).status).toBe(403);
    expect((await raw(`${server.url}/mcp`, { method: "POST", headers: { ...MCP_HEADERS, ...auth, origin: "http://evil.example" }, body })).status).toBe(403);
    const padded = JSON.stringify({ ...INIT, params: { ...INIT.params, padding: "x".repeat(4096) } });
    expect((await raw(`${server.url}/mcp`, { method: "POST", headers: { ...MCP_HEADERS, ...auth }, body: padded })).status).toBe(413);
    expect((await raw(`${server.url}/mcp`, { method: "POST", headers: { ...MCP_HEADERS, ...auth }, body: "{not json" })).status).toBeGreaterThanOrEqual(400);
    expect((await raw(`${server.url}/health`)).status).toBe(200);
    expect((await raw(`${server.url}/ready`)).status).toBe(200);
    // Every path but the open probes is guarded: an unknown one without a token is 401, not 404.
    expect((await raw(`${server.url}/nowhere`)).status).toBe(401);
    expect((await raw(`${server.url}/nowhere`, { headers: auth })).status).toBe(404);
    const statuses = [];
    for (let i = 0; i < 2; i++) statuses.push((await raw(`${limited.url}/mcp`, { method: "POST", headers: { ...MCP_HEADERS, ...auth }, body })).status);
    expect(statuses).toEqual([200, 429]);

    // Bad configuration, in-process: the message names the variable and hides its value.
    const badConfigs: Array<Record<string, string>> = [
      { MCP_AUTH_TOKEN: "shh-7f3a9c1e5b" },
      { MCP_AUTH_TOKEN: `${AUTH_TOKEN},tiny-4d2e8b6a` },
      { MCP_AUTH_TOKEN: "mcplab SECRET with-space 4d2e8b6a" },
      { METRICS_TOKEN: "short-9a1c0f" },
      { OPENAI_API_KEY: API_KEY, MCP_AUTH_TOKEN: AUTH_TOKEN, PORT: "not-a-port", LLM_MODEL: "", LOCAL_ONLY: "maybe" },
      { OPENAI_API_KEY: API_KEY, HOST: "0.0.0.0" },
      { OPENAI_API_KEY: API_KEY, LOCAL_ONLY: "true", LLM_MODEL: "openai/gpt-4o-mini" },
    ];
    for (const env of badConfigs) {
      let message = "";
      try {
        loadConfig(env);
      } catch (error) {
        message = `${(error as Error).message} ${JSON.stringify(error)}`;
      }
      expect(message, JSON.stringify(Object.keys(env))).not.toBe("");
      see(`loadConfig(${Object.keys(env).join(",")})`, message);
    }

    // ... and as a process: what `pnpm start` prints with a bad token and a key set.
    const child = spawnServer([], { PORT: "0", MCP_AUTH_TOKEN: "bad-7f3a9c1e5b", OPENAI_API_KEY: API_KEY, METRICS_TOKEN: "short-9a1c0f" });
    const output = collect(child);
    expect(await output.exit).toBe(2);
    expect(output.stderr()).toContain("MCP_AUTH_TOKEN=(hidden)");
    see("process stdout", output.stdout());
    see("process stderr", output.stderr());

    expect(server.logs.filter((line) => line.msg === "tool call").length).toBeGreaterThan(40);
    expect(server.logs.some((line) => line.msg === "retrying model call")).toBe(true);
    const found = await leaksSoFar();
    expect(seen.length).toBeGreaterThan(200);
    expect(found, "a secret appeared in what the server showed").toEqual([]);
  });

  it("even when a provider echoes the key it was sent in its error text (some OpenAI-compatible servers do)", async () => {
    seen.length = 0;
    const streamable = await connect(server.url, "streamable-http");
    const sse = await connect(server.url, "sse");
    await provokeProviderFailures(streamable, sse, [
      { standIn: cloud, status: 401, error: `Incorrect API key provided: ${API_KEY}.` },
      { standIn: cloud, status: 429, error: `rate limit for key ${API_KEY}`, headers: { "retry-after": "0" } },
      { standIn: cloud, status: 500, error: `upstream failed for Authorization: Bearer ${API_KEY}` },
    ]);
    // A key echoed in a streamed answer (progress shows its tail) and in an error body longer than
    // the 300 characters kept of it, with the key right at the cut.
    cloud.behaviour = { firstTokenDelayMs: 0, tokenDelayMs: 60 };
    cloud.reply = () => ({ content: `Your key is ${API_KEY} ${"word ".repeat(8)}` });
    for (const client of [streamable, sse]) await call(client, "ask_llm", { prompt: "echo", model: "openai/gpt-4o-mini" });
    cloud.reset();
    await provokeProviderFailures(streamable, sse, [{ standIn: cloud, status: 400, error: `${"e".repeat(280)}${API_KEY} was refused` }]);
    await streamable.close();
    await sse.close();
    const found = await leaksSoFar();
    const summary = [...new Set(found.map((leak) => `${leak.where}: …${leak.excerpt}…`))].slice(0, 6).join("\n");
    expect(found.length, `the OpenAI key reached the MCP client in ${found.length} places, e.g.\n${summary}`).toBe(0);
  });
});
