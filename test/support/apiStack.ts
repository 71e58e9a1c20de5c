import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { type ChatCall, OllamaStandIn, type Reply } from "./ollamaStandIn.js";
import { startTestServer, type TestServer } from "./server.js";

export const API_TOKEN = "api-stack-token-0123456789abcdef";
export const CLOUD_KEY = "sk-cloud-api-stack-key-8c2d41e07b";

/** A local Ollama stand-in, an OpenAI-compatible cloud stand-in (gpt-4o-mini), and the server in front of both. */
export type ApiStack = {
  ollama: OllamaStandIn;
  cloud: OllamaStandIn;
  server: TestServer;
  /** The official SDKs, pointed at the server the way their users point them (base URL and token). */
  openai(token?: string): OpenAI;
  anthropic(options?: { apiKey?: string; authToken?: string }): Anthropic;
  /** The server's `api request` log lines so far. */
  apiLogs(): Array<Record<string, unknown>>;
  reset(): void;
  stop(): Promise<void>;
};

/** Answers a tool call when tools are offered and no tool result has come back yet; otherwise echoes. */
export function toolRoundTrip(call: ChatCall & { tools?: unknown[] }): Reply {
  const last = call.messages.at(-1);
  const text = typeof last?.content === "string" ? last.content : JSON.stringify(last?.content ?? "");
  if (last?.role === "tool" || text.includes("[tool_result")) return { content: `The weather is ${text.includes("sunny") ? "sunny" : "unknown"}.` };
  if (call.tools?.length) return { content: "Let me look.", toolCalls: [{ id: "call_w1", name: "get_weather", arguments: { city: "Kyoto" } }] };
  return { content: `Echo from ${call.model}: ${text}` };
}

export async function startApiStack(env: Record<string, string> = {}): Promise<ApiStack> {
  const ollama = await new OllamaStandIn().start();
  const cloud = await new OllamaStandIn().start();
  cloud.models.push({ ...cloud.models[0]!, name: "gpt-4o-mini" });
  const server = await startTestServer({
    OLLAMA_BASE_URL: ollama.baseUrl,
    OPENAI_BASE_URL: `${cloud.baseUrl}/v1`,
    OPENAI_API_KEY: CLOUD_KEY,
    MCP_AUTH_TOKEN: API_TOKEN,
    LLM_RETRY_BASE_DELAY_MS: "0",
    ...env,
  });
  const defaultReply = ollama.reply;
  return {
    ollama,
    cloud,
    server,
    openai: (token = API_TOKEN) => new OpenAI({ baseURL: `${server.url}/v1`, apiKey: token, maxRetries: 0 }),
    anthropic: (options = { apiKey: API_TOKEN }) => new Anthropic({ baseURL: server.url, maxRetries: 0, apiKey: null, authToken: null, ...options }),
    apiLogs: () => server.logs.filter((line) => line.msg === "api request"),
    reset() {
      for (const standIn of [ollama, cloud]) {
        standIn.reset();
        standIn.reply = defaultReply;
        standIn.missingRoutes.clear();
        standIn.version = "0.33.0";
      }
    },
    async stop() {
      await server.shutdown("test over");
      await Promise.all([ollama.stop(), cloud.stop()]);
    },
  };
}
