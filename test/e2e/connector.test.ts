import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectorCallerId } from "../../src/caller.js";
import {
  approve,
  type ConnectorServer,
  connect,
  expireAccessToken,
  initializeAt,
  MCP_HEADERS,
  MemoryOAuthProvider,
  STATIC_TOKEN,
  startConnectorServer,
} from "../support/oauth.js";
import { OllamaStandIn } from "../support/ollamaStandIn.js";
import { callTool, connectClient } from "../support/server.js";

const CALLBACK = "http://127.0.0.1:9/oauth/callback";

function sdkProvider(): MemoryOAuthProvider {
  return new MemoryOAuthProvider(CALLBACK, {
    client_name: "MCP SDK test client",
    redirect_uris: [CALLBACK],
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    token_endpoint_auth_method: "none",
  });
}

/** The SDK's documented flow: connect, be sent to authorize, come back with a code, finish, connect again. */
async function connectWithSdk(door: string, provider: MemoryOAuthProvider): Promise<Client> {
  const first = new StreamableHTTPClientTransport(new URL(door), { authProvider: provider });
  await expect(new Client({ name: "sdk-oauth", version: "1" }).connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
  expect(provider.authorizationUrl).toBeDefined();
  const back = await approve(provider.authorizationUrl!.toString());
  await first.finishAuth(back.searchParams.get("code")!);
  const client = new Client({ name: "sdk-oauth", version: "1" });
  await client.connect(new StreamableHTTPClientTransport(new URL(door), { authProvider: provider }));
  return client;
}

describe("the connector door with the official MCP SDK client's OAuth", () => {
  let ollama: OllamaStandIn;
  let server: ConnectorServer;
  beforeAll(async () => {
    ollama = await new OllamaStandIn().start();
    server = await startConnectorServer({ OLLAMA_BASE_URL: ollama.baseUrl });
  });
  afterAll(async () => {
    await server.shutdown("test over");
    await ollama.stop();
  });

  it("discovers, registers, authorizes with PKCE, gets a token for the door, and calls ask_llm", async () => {
    const provider = sdkProvider();
    const client = await connectWithSdk(server.door, provider);
    const url = provider.authorizationUrl!;
    expect(url.origin + url.pathname).toBe(`${server.base}/connector/oauth/authorize`);
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    expect(url.searchParams.get("resource")).toBe(server.door);
    const answer = await callTool(client, "ask_llm", { prompt: "hello through the connector", model: "qwen3:4b" });
    expect(answer.isError).toBeFalsy();
    expect(ollama.requests.some((request) => JSON.stringify(request.body).includes("hello through the connector"))).toBe(true);
    const clientId = (provider.clientInformation() as { client_id: string }).client_id;
    const [listed] = (await server.services.connector!.approvals.list()).filter((c) => c.clientId === clientId);
    expect(listed).toMatchObject({ name: "MCP SDK test client", via: "registration", callerId: connectorCallerId(clientId), liveGrants: 1 });
    await client.close();
  });

  it("refreshes with a rotating refresh token when the access token expires, and a replayed one ends the grant", async () => {
    const provider = sdkProvider();
    const client = await connectWithSdk(server.door, provider);
    const first = provider.tokens()!;
    const clientId = (provider.clientInformation() as { client_id: string }).client_id;
    await expireAccessToken(server, first.access_token);
    const expired = await initializeAt(server.door, first.access_token);
    expect(expired.status).toBe(401);
    expect(expired.headers.get("www-authenticate")).toContain('error="invalid_token"');
    // The next call meets a 401; the SDK refreshes and retries on its own.
    expect((await callTool(client, "add", { a: 2, b: 3 })).text).toBe("5");
    const second = provider.tokens()!;
    expect(second.access_token).not.toBe(first.access_token);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    // The first refresh token was used: presented again, it is refused and the whole grant goes.
    const replay = await fetch(`${server.base}/connector/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: first.refresh_token!, client_id: clientId }),
    });
    expect(replay.status).toBe(400);
    expect(((await replay.json()) as { error: string }).error).toBe("invalid_grant");
    expect((await initializeAt(server.door, second.access_token)).status).toBe(401);
    await client.close().catch(() => undefined);
  });

  it("keeps each connected client apart from the static token and from each other", async () => {
    const a = await connect(server.base);
    const b = await connect(server.base);
    const opened = await initializeAt(server.door, a.tokens.access_token);
    expect(opened.status).toBe(200);
    const sessionId = opened.headers.get("mcp-session-id")!;
    const list = JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" });
    const withSession = (token: string) => ({
      ...MCP_HEADERS,
      authorization: `Bearer ${token}`,
      "mcp-session-id": sessionId,
      "mcp-protocol-version": "2025-06-18",
    });
    // The session is a's: on the static door, and for another client, it does not exist.
    expect((await fetch(`${server.base}/mcp`, { method: "POST", headers: withSession(STATIC_TOKEN), body: list })).status).toBe(404);
    expect((await fetch(server.door, { method: "POST", headers: withSession(b.tokens.access_token), body: list })).status).toBe(404);
    expect((await fetch(server.door, { method: "POST", headers: withSession(a.tokens.access_token), body: list })).status).toBe(200);
    // So is a conversation a started.
    const sdkA = new Client({ name: "a", version: "1" });
    await sdkA.connect(
      new StreamableHTTPClientTransport(new URL(server.door), { requestInit: { headers: { authorization: `Bearer ${a.tokens.access_token}` } } }),
    );
    const started = await callTool(sdkA, "ask_llm", { prompt: "remember this", model: "qwen3:4b" });
    const conversationId = /conversation_id: (\S+)/.exec(started.text)![1]!;
    const staticClient = await connectClient(server.base, "streamable-http", { authorization: `Bearer ${STATIC_TOKEN}` });
    const foreign = await callTool(staticClient, "ask_llm", { prompt: "and?", conversation_id: conversationId, model: "qwen3:4b" });
    expect(foreign.isError).toBe(true);
    expect(foreign.text).toContain("unknown or has expired");
    expect((await callTool(sdkA, "ask_llm", { prompt: "and?", conversation_id: conversationId, model: "qwen3:4b" })).isError).toBeFalsy();
    await Promise.all([sdkA.close(), staticClient.close()]);
  });
});
