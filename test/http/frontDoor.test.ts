import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OllamaStandIn } from "../support/ollamaStandIn.js";
import { rawRequest } from "../support/rawHttp.js";
import { startTestServer, type TestServer } from "../support/server.js";

const TOKEN = "front-door-token-0123456789";
const INIT = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } },
});
const MCP = { "content-type": "application/json", accept: "application/json, text/event-stream" };
const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/** Every spelling a URL parser would resolve to `route`, and a few it would not. */
function spellingsOf(route: string): string[] {
  const name = route.slice(1);
  const dotted = [`/./${name}`, `/%2e/${name}`, `/%2E/${name}`, `/x/../${name}`, `/x/%2e%2e/${name}`, `/x/%2E%2e/${name}`, `/${name}/.`, `/${name}/x/..`];
  const encoded = [
    `/${name.replace(/^./, (c) => `%${c.charCodeAt(0).toString(16)}`)}`,
    `/${name.slice(0, -1)}%${name
      .charCodeAt(name.length - 1)
      .toString(16)
      .toUpperCase()}`,
  ];
  const other = [
    `/${name}#x`,
    `/${name}?q=1#frag`,
    `//${name}`,
    `\\${name}`,
    `/\\${name}`,
    `/${name}/`,
    `/${name}//`,
    `/./${name}?sessionId=abc`,
    `/${name.toUpperCase()}`,
    `/${name}x`,
    `/${name};x`,
  ];
  return [route, ...dotted, ...encoded, ...other];
}

describe("the front door decides on exactly the path that is routed", () => {
  let ollama: OllamaStandIn;
  let server: TestServer;
  let port: number;
  beforeAll(async () => {
    ollama = await new OllamaStandIn().start();
    server = await startTestServer({ OLLAMA_BASE_URL: ollama.baseUrl, MCP_AUTH_TOKEN: TOKEN, RATE_LIMIT_PER_MINUTE: "0", AUTH_FAILURES_PER_MINUTE: "100000" });
    port = server.http!.port;
  });
  afterAll(async () => {
    await server.shutdown("test over");
    await ollama.stop();
  });

  it("lets no spelling, encoding or method of a guarded route through without a token", async () => {
    const seen = new Map<string, number>();
    for (const route of [
      "/mcp",
      "/sse",
      "/messages",
      "/metrics",
      "/ping",
      "/unknown",
      "/v1/models",
      "/v1/messages",
      "/v1/chat/completions",
      "/v1/embeddings",
    ]) {
      for (const target of spellingsOf(route)) {
        for (const method of METHODS) {
          const body = method === "POST" || method === "PUT" || method === "PATCH" ? INIT : "";
          const response = await rawRequest(port, method, target, MCP, body);
          seen.set(`${method} ${target}`, response.status);
        }
      }
    }
    const through = [...seen].filter(([, status]) => status < 300 || status >= 500);
    // Only a CORS preflight on an exact MCP route may pass without a token (it carries none).
    expect(through.filter(([request]) => !/^OPTIONS \/(mcp|sse|messages)$/.test(request))).toEqual([]);
    expect(server.mcp.sessions).toHaveLength(0);
    expect(ollama.requests).toHaveLength(0);
    expect(seen.get("POST /./mcp")).toBe(400);
    expect(seen.get("POST /%2e/mcp")).toBe(400);
    expect(seen.get("POST /x/../mcp")).toBe(400);
    expect(seen.get("POST /mcp#x")).toBe(400);
    expect(seen.get("GET /./sse")).toBe(400);
    expect(seen.get("POST /./messages?sessionId=abc")).toBe(400);
    expect(seen.get("POST /mcp")).toBe(401);
    expect(seen.get("POST /messagesx")).toBe(401);
    expect(seen.get("POST /v1/messages")).toBe(401);
    expect(seen.get("POST /./v1/messages")).toBe(400);
  });

  it("answers OAuth discovery with 404, not 401, so clients keep to the static token", async () => {
    for (const path of [
      "/.well-known/oauth-protected-resource/mcp",
      "/.well-known/oauth-protected-resource",
      "/.well-known/oauth-authorization-server",
      "/.well-known/openid-configuration",
    ]) {
      expect((await rawRequest(port, "GET", path)).status).toBe(404);
    }
    expect((await rawRequest(port, "GET", "/.well-known/../mcp")).status).toBe(400);
  });

  it("keeps /health and /ready open, and only for reading", async () => {
    expect((await rawRequest(port, "GET", "/health")).status).toBe(200);
    expect((await rawRequest(port, "HEAD", "/ready")).status).toBe(200);
    expect((await rawRequest(port, "POST", "/health", {}, "{}")).status).toBe(401);
    expect((await rawRequest(port, "GET", "/./health")).status).toBe(400);
  });

  it("routes a token holder's canonical paths only, with 404 and 405 for the rest", async () => {
    const auth = { ...MCP, authorization: `Bearer ${TOKEN}` };
    expect((await rawRequest(port, "POST", "/mcp", auth, INIT)).status).toBe(200);
    expect((await rawRequest(port, "POST", "/mcp/", auth, INIT)).status).toBe(400);
    expect((await rawRequest(port, "POST", "/messagesx?sessionId=1", auth, "{}")).status).toBe(404);
    expect((await rawRequest(port, "GET", "/ping", auth)).status).toBe(404);
    const put = await rawRequest(port, "PUT", "/mcp", auth, INIT);
    expect(put.status).toBe(405);
    expect(put.head).toMatch(/allow: POST, GET, DELETE/i);
    expect((await rawRequest(port, "POST", "/./mcp", auth, INIT)).status).toBe(400);
  });
});
