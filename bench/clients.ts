import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { nowMs } from "./stats.js";

/** One timed call: wall time, and when the first progress notification / first token arrived. */
export type Sample = { ms: number; startedAt: number; firstAt: number | undefined; ok: boolean; completionTokens?: number };

/** direct: straight to the provider; proxy: through a bare HTTP pass-through; mcp, sse: ask_llm through the gateway. */
export type Path = "direct" | "proxy" | "mcp" | "sse";

export type Caller = { call(prompt: string, args?: Record<string, unknown>): Promise<Sample>; close(): Promise<void> };

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

type Chunk = { choices?: Array<{ delta?: { content?: string; reasoning?: string; reasoning_content?: string } }>; usage?: { completion_tokens?: number } };

/**
 * The same streamed request the gateway sends (OpenAI chat completions, stream + usage), sent
 * straight to the provider with the same HTTP client library the MCP SDK uses (Node's fetch).
 * The stream is read and parsed event by event, as any streaming client does.
 */
export function directCaller(providerUrl: string, model: string): Caller {
  return {
    async call(prompt, args = {}) {
      const startedAt = nowMs();
      const response = await fetch(`${providerUrl}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ model, messages: [{ role: "user", content: prompt }], stream: true, stream_options: { include_usage: true }, ...args }),
      });
      let firstAt: number | undefined;
      let completionTokens: number | undefined;
      await readEvents(response, (chunk) => {
        const delta = chunk.choices?.[0]?.delta;
        if (delta && (delta.content || delta.reasoning || delta.reasoning_content)) firstAt ??= nowMs();
        completionTokens = chunk.usage?.completion_tokens ?? completionTokens;
      });
      return { ms: nowMs() - startedAt, startedAt, firstAt, ok: response.ok, completionTokens };
    },
    close: async () => undefined,
  };
}

async function readEvents(response: Response, onChunk: (chunk: Chunk) => void): Promise<void> {
  if (!response.body) return;
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const bytes of response.body) {
    buffer += decoder.decode(bytes as Uint8Array, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) !== -1) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = event.startsWith("data: ") ? event.slice(6) : "";
      if (data && data !== "[DONE]") onChunk(JSON.parse(data) as Chunk);
    }
  }
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
