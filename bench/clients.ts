import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { nowMs } from "./stats.js";

/** One timed call: wall time, and when the first progress notification / first token arrived. */
export type Sample = { ms: number; startedAt: number; firstAt: number | undefined; ok: boolean; completionTokens?: number };

/** direct: straight to the provider; proxy: through a bare HTTP pass-through; mcp, sse: ask_llm through the gateway. */
export type Path = "direct" | "proxy" | "mcp" | "sse";

/** The ask_llm arguments a call may carry besides the prompt and the model; the direct caller sends them as the gateway does. */
export type CallArgs = { max_tokens?: number; temperature?: number };

export type Caller = { call(prompt: string, args?: CallArgs): Promise<Sample>; close(): Promise<void> };

/** An MCP client (the official SDK) connected to the gateway over streamable HTTP or legacy SSE. */
export async function mcpCaller(baseUrl: string, path: "mcp" | "sse", model: string): Promise<Caller> {
  const client = new Client({ name: "mcp-lab-bench", version: "1.0.0" });
  const transport = path === "sse" ? new SSEClientTransport(new URL(`${baseUrl}/sse`)) : new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`));
  await client.connect(transport);
  return {
    async call(prompt, args = {}) {
      let firstAt: number | undefined;
      const startedAt = nowMs();
      const result = await client.callTool({ name: "ask_llm", arguments: { prompt, model, ...args } }, undefined, {
        onprogress: () => (firstAt ??= nowMs()),
        timeout: 600_000,
      });
      const structured = result.structuredContent as { completionTokens?: number | null } | undefined;
      return { ms: nowMs() - startedAt, startedAt, firstAt, ok: !result.isError, completionTokens: structured?.completionTokens ?? undefined };
    },
    async close() {
      if (transport instanceof StreamableHTTPClientTransport) await transport.terminateSession().catch(() => undefined);
      await client.close();
    },
  };
}

type ChatLine = { message?: { content?: string; thinking?: string }; done?: boolean; eval_count?: number; error?: string };

/**
 * The same streamed request the gateway sends to Ollama (POST /api/chat: model, messages,
 * stream: true, and `options` only when the call sets max_tokens or temperature), sent straight
 * to the provider with the HTTP client the MCP SDK uses (Node's fetch). The NDJSON answer is
 * read and parsed line by line, as any streaming client does.
 */
export function directCaller(providerUrl: string, model: string): Caller {
  return {
    async call(prompt, args = {}) {
      const options = {
        ...(args.temperature !== undefined && { temperature: args.temperature }),
        ...(args.max_tokens !== undefined && { num_predict: args.max_tokens }),
      };
      const body = { model, messages: [{ role: "user", content: prompt }], stream: true, ...(Object.keys(options).length > 0 && { options }) };
      const startedAt = nowMs();
      const response = await fetch(`${providerUrl}/api/chat`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      let firstAt: number | undefined;
      let completionTokens: number | undefined;
      let failed = false;
      await readLines(response, (line) => {
        if (line.message?.content || line.message?.thinking) firstAt ??= nowMs();
        if (line.done) completionTokens = line.eval_count;
        if (line.error) failed = true;
      });
      return { ms: nowMs() - startedAt, startedAt, firstAt, ok: response.ok && !failed, completionTokens };
    },
    close: async () => undefined,
  };
}

async function readLines(response: Response, onLine: (line: ChatLine) => void): Promise<void> {
  if (!response.body) return;
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const bytes of response.body) {
    buffer += decoder.decode(bytes as Uint8Array, { stream: true });
    for (let end = buffer.indexOf("\n"); end !== -1; end = buffer.indexOf("\n")) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 1);
      if (line.trim()) onLine(JSON.parse(line) as ChatLine);
    }
  }
  if (buffer.trim()) onLine(JSON.parse(buffer) as ChatLine);
}

/** Where a comparison runs: the gateway, the provider it forwards to, the model, and both processes. */
export type Target = {
  gateway: string;
  provider: string;
  model: string;
  gatewayPid: number;
  providerPid: number;
  proxy?: { url: string; pid: number };
};

export async function callerFor(path: Path, target: Target): Promise<Caller> {
  if (path === "direct") return directCaller(target.provider, target.model);
  if (path === "proxy") return directCaller(target.proxy!.url, target.model);
  return mcpCaller(target.gateway, path, target.model);
}
