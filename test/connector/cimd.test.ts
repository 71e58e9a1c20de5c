import http from "node:http";
import type { AddressInfo } from "node:net";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  approve,
  authorizationUrl,
  type ConnectorServer,
  FormBrowser,
  MemoryOAuthProvider,
  openApproval,
  pkce,
  startConnectorServer,
} from "../support/oauth.js";
import { callTool } from "../support/server.js";

const CALLBACK = "http://127.0.0.1:9/oauth/callback";
const PUBLISHED = "https://client.test";

/** Where a client publishes its metadata documents (RFC-style client ID URLs), served here on loopback. */
async function documents(docs: Record<string, Record<string, unknown>>): Promise<{ url: string; fetched: string[]; close(): void }> {
  const fetched: string[] = [];
  const server = http.createServer((req, res) => {
    fetched.push(req.url ?? "");
    const doc = docs[req.url ?? ""];
    if (!doc) return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": "application/json", "cache-control": "max-age=60" }).end(JSON.stringify(doc));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, fetched, close: () => server.close() };
}

describe("client ID metadata documents (the registration the current MCP revision prefers)", () => {
  let server: ConnectorServer;
  let published: Awaited<ReturnType<typeof documents>>;
  beforeAll(async () => {
    published = await documents({
      "/client.json": {
        client_id: `${PUBLISHED}/client.json`,
        client_name: "CIMD test client",
        redirect_uris: [CALLBACK],
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
      },
      "/liar.json": { client_id: `${PUBLISHED}/someone-else.json`, client_name: "Liar", redirect_uris: [CALLBACK] },
    });
    // The server fetches https://client.test/… ; here that host is a loopback server (the seam only
    // redirects the fetch: oidc-provider still checks the document, its size and its client_id).
    server = await startConnectorServer(
      {},
      { connectorFetch: (input, init) => fetch(String(input).replace(PUBLISHED, published.url), { ...init, dispatcher: undefined } as RequestInit) },
    );
  });
  afterAll(async () => {
    await server.shutdown("test over");
    published.close();
  });

  it("lets the MCP SDK client connect with its URL as client_id, without registering", async () => {
    const provider = new MemoryOAuthProvider(
      CALLBACK,
      { client_name: "ignored: the document names it", redirect_uris: [CALLBACK] },
      `${PUBLISHED}/client.json`,
    );
    const first = new StreamableHTTPClientTransport(new URL(server.door), { authProvider: provider });
    await expect(new Client({ name: "cimd", version: "1" }).connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
    expect(provider.authorizationUrl!.searchParams.get("client_id")).toBe(`${PUBLISHED}/client.json`);
    const browser = new FormBrowser();
    const page = await openApproval(browser, provider.authorizationUrl!.toString());
    expect(page.html).toContain("CIMD test client");
    expect(page.html).toContain("its metadata document at the address above");
    const back = await approve(provider.authorizationUrl!.toString());
    await first.finishAuth(back.searchParams.get("code")!);
    const client = new Client({ name: "cimd", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(server.door), { authProvider: provider }));
    expect((await callTool(client, "add", { a: 1, b: 2 })).text).toBe("3");
    await client.close();
    expect(published.fetched).toContain("/client.json");
    const [listed] = await server.services.connector!.approvals.list();
    expect(listed).toMatchObject({ clientId: `${PUBLISHED}/client.json`, name: "CIMD test client", via: "metadata-document" });
  });

  it("refuses a document whose client_id is not its own URL", async () => {
    const response = await fetch(
      authorizationUrl(server.base, {
        client_id: `${PUBLISHED}/liar.json`,
        redirect_uri: CALLBACK,
        code_challenge: pkce().challenge,
        code_challenge_method: "S256",
      }),
      { redirect: "manual" },
    );
    expect(response.status).toBe(400);
    expect(response.headers.get("location")).toBeNull();
  });
});

describe("client ID metadata documents, fetched as deployed", () => {
  let server: ConnectorServer;
  let published: Awaited<ReturnType<typeof documents>>;
  beforeAll(async () => {
    published = await documents({});
    server = await startConnectorServer();
  });
  afterAll(async () => {
    await server.shutdown("test over");
    published.close();
  });

  it("never fetches from a private or loopback address (no request forgery through client_id)", async () => {
    const port = new URL(published.url).port;
    const response = await fetch(
      authorizationUrl(server.base, {
        client_id: `https://127.0.0.1:${port}/client.json`,
        redirect_uri: CALLBACK,
        code_challenge: pkce().challenge,
        code_challenge_method: "S256",
      }),
      { redirect: "manual" },
    );
    expect(response.status).toBe(400);
    expect(published.fetched).toEqual([]);
  });
});
