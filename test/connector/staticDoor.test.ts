import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INITIALIZE_MESSAGE, McpRemote } from "../support/mcpRemote.js";
import { type ConnectorServer, INITIALIZE, initializeAt, MCP_HEADERS, STATIC_TOKEN, startConnectorServer } from "../support/oauth.js";
import { rawRequest } from "../support/rawHttp.js";
import { recordingProxy, type Seen } from "../support/recordingProxy.js";
import { startTestServer, type TestServer } from "../support/server.js";

/** Every place a client looks for OAuth metadata about the static door's routes (RFC 9728, RFC 8414, OpenID). */
const STATIC_DISCOVERY = [
  "/.well-known/oauth-protected-resource",
  "/.well-known/oauth-protected-resource/mcp",
  "/.well-known/oauth-protected-resource/sse",
  "/.well-known/oauth-authorization-server",
  "/.well-known/oauth-authorization-server/mcp",
  "/.well-known/openid-configuration",
  "/.well-known/openid-configuration/mcp",
];

/** mcp-remote with a static header on /mcp, through a recording proxy: what it asked for, and its exit when the token is wrong. */
async function runMcpRemote(server: TestServer, token: string): Promise<{ seen: Seen[]; exit: number | null; answers: Array<Record<string, unknown>> }> {
  const proxy = await recordingProxy(server.http!.port);
  const remote = new McpRemote([`${proxy.url}/mcp`, "--header", `Authorization: Bearer ${token}`]);
  const answers: Array<Record<string, unknown>> = [];
  remote.send(INITIALIZE_MESSAGE);
  if (token === STATIC_TOKEN) {
    answers.push(await remote.answer(1));
    remote.send({ jsonrpc: "2.0", method: "notifications/initialized" });
    remote.send({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "add", arguments: { a: 2, b: 3 } } });
    answers.push(await remote.answer(2));
  }
  const exit = token === STATIC_TOKEN ? null : await remote.exited;
  await remote.stop();
  await proxy.close();
  return { seen: [...proxy.seen], exit, answers };
}

describe("the static door, with the connector door on", () => {
  let server: ConnectorServer;
  let plain: TestServer;
  beforeAll(async () => {
    server = await startConnectorServer({ AUTH_FAILURES_PER_MINUTE: "1000" });
    plain = await startTestServer({ MCP_AUTH_TOKEN: STATIC_TOKEN, AUTH_FAILURES_PER_MINUTE: "1000" });
  });
  afterAll(async () => {
    await Promise.all([server.shutdown("test over"), plain.shutdown("test over")]);
  });

  it("answers its 401s as before: no resource_metadata, nothing that points at OAuth", async () => {
    for (const token of [undefined, "a-wrong-token-0123456789"]) {
      for (const target of [server, plain]) {
        const refused = await rawRequest(target.http!.port, "POST", "/mcp", { ...MCP_HEADERS, ...(token && { authorization: `Bearer ${token}` }) }, INITIALIZE);
        expect(refused.status).toBe(401);
        expect(refused.head).toMatch(/www-authenticate: Bearer realm="mcp-lab"(, error="invalid_token")?\r?$/im);
        expect(refused.head).not.toContain("resource_metadata");
      }
    }
    expect((await initializeAt(`${server.base}/mcp`, STATIC_TOKEN)).status).toBe(200);
  });

  it("keeps every discovery path of the static routes at 404, the root ones included", async () => {
    for (const path of STATIC_DISCOVERY) {
      expect((await rawRequest(server.http!.port, "GET", path)).status, path).toBe(404);
    }
    // The connector's own metadata is under its own path.
    expect((await rawRequest(server.http!.port, "GET", "/.well-known/oauth-protected-resource/connector/mcp")).status).toBe(200);
    expect((await rawRequest(server.http!.port, "GET", "/.well-known/oauth-authorization-server/connector")).status).toBe(200);
  });

  it("lets mcp-remote with a static header use /mcp, and gives it no OAuth metadata to find", async () => {
    const run = await runMcpRemote(server, STATIC_TOKEN);
    expect((run.answers[1]!.result as { content: Array<{ text: string }> }).content[0]!.text).toBe("5");
    // mcp-remote probes for OAuth metadata on every start; every probe finds nothing.
    const probes = run.seen.filter((request) => request.path.includes(".well-known"));
    expect(probes.length).toBeGreaterThan(0);
    expect(probes.filter((request) => request.status === 200)).toEqual([]);
    expect(run.seen.filter((request) => request.path.startsWith("/connector"))).toEqual([]);
  });

  it("leads mcp-remote with a wrong static token exactly where it went before the connector existed", async () => {
    const withConnector = await runMcpRemote(server, "a-wrong-token-0123456789");
    const without = await runMcpRemote(plain, "a-wrong-token-0123456789");
    expect(withConnector.exit).toBe(1);
    expect(withConnector.seen).toEqual(without.seen);
    expect(withConnector.seen.filter((request) => request.status === 200)).toEqual([]);
  });
});

describe("the connector door, off", () => {
  let server: TestServer;
  beforeAll(async () => {
    // PUBLIC_URL alone turns nothing on.
    server = await startTestServer({ MCP_AUTH_TOKEN: STATIC_TOKEN, PUBLIC_URL: "https://mcp-lab.example" });
  });
  afterAll(() => server.shutdown("test over"));

  it("serves none of its routes: they are unknown paths behind the static guard", async () => {
    expect(server.services.connector).toBeUndefined();
    const port = server.http!.port;
    expect((await rawRequest(port, "GET", "/.well-known/oauth-protected-resource/connector/mcp")).status).toBe(404);
    expect((await rawRequest(port, "GET", "/.well-known/oauth-authorization-server/connector")).status).toBe(404);
    expect((await rawRequest(port, "POST", "/connector/oauth/register", { "content-type": "application/json" }, "{}")).status).toBe(401);
    expect((await rawRequest(port, "POST", "/connector/mcp", MCP_HEADERS, INITIALIZE)).status).toBe(401);
    expect((await rawRequest(port, "POST", "/connector/mcp", { ...MCP_HEADERS, authorization: `Bearer ${STATIC_TOKEN}` }, INITIALIZE)).status).toBe(404);
  });
});
