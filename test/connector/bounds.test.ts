import http from "node:http";
import net from "node:net";
import { networkInterfaces } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  authorizationUrl,
  type ConnectorServer,
  connect,
  FormBrowser,
  OWNER_PASSWORD,
  openApproval,
  pkce,
  REDIRECT_URI,
  register,
  STATIC_TOKEN,
  startConnectorServer,
} from "../support/oauth.js";
import { freePort } from "../support/ports.js";
import { rawRequest } from "../support/rawHttp.js";

const JSON_HEADERS = { "content-type": "application/json" };

/** A POST whose body comes in chunks, with no length announced: the status line of the answer. */
function chunkedPost(port: number, path: string, headers: Record<string, string>, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => {
      const head = [`POST ${path} HTTP/1.1`, "host: 127.0.0.1", "transfer-encoding: chunked", ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)].join(
        "\r\n",
      );
      socket.write(`${head}\r\n\r\n`);
      for (let i = 0; i < body.length; i += 1_000) {
        const piece = body.slice(i, i + 1_000);
        socket.write(`${Buffer.byteLength(piece).toString(16)}\r\n${piece}\r\n`);
      }
      socket.write("0\r\n\r\n");
    });
    let answer = "";
    socket.on("data", (chunk: Buffer) => (answer += chunk.toString("latin1")));
    socket.on("error", (error: NodeJS.ErrnoException) => (error.code === "ECONNRESET" || error.code === "EPIPE" ? resolve(answer) : reject(error)));
    socket.on("close", () => resolve(answer));
  });
}
const FORM_HEADERS = { "content-type": "application/x-www-form-urlencoded" };

describe("what a stranger can cost the connector's open routes", () => {
  let server: ConnectorServer;
  let port: number;
  beforeAll(async () => {
    server = await startConnectorServer({ AUTH_FAILURES_PER_MINUTE: "3" });
    port = server.http!.port;
  });
  afterAll(() => server.shutdown("test over"));

  it("caps every body before the authorization server reads it", async () => {
    const big = (bytes: number) => JSON.stringify({ client_name: "x".repeat(bytes) });
    expect((await rawRequest(port, "POST", "/connector/oauth/register", JSON_HEADERS, big(17_000))).status).toBe(413);
    expect((await rawRequest(port, "POST", "/connector/oauth/token", FORM_HEADERS, `grant_type=${"x".repeat(9_000)}`)).status).toBe(413);
    expect((await rawRequest(port, "POST", "/connector/approve/some-uid", FORM_HEADERS, `csrf=${"x".repeat(9_000)}`)).status).toBe(413);
  });

  it("caps a body sent in chunks, with no length announced, as well", async () => {
    for (const path of ["/connector/oauth/token", "/connector/approve/some-uid"]) {
      const answer = await chunkedPost(port, path, FORM_HEADERS, `grant_type=${"x".repeat(20_000)}`);
      expect(answer, path).toMatch(/^HTTP\/1\.1 413/);
    }
    expect(server.logs.filter((line) => Number(line.level) >= 50)).toEqual([]);
  });

  it("answers only to its own names, like every other route", async () => {
    expect((await rawRequest(port, "GET", "/.well-known/oauth-authorization-server/connector", { host: "attacker.example" })).status).toBe(403);
    expect((await rawRequest(port, "POST", "/connector/oauth/register", { ...JSON_HEADERS, origin: "https://attacker.example" }, "{}")).status).toBe(403);
  });

  it("takes client registrations from an address at the rate of failed logins", async () => {
    // One a minute: the refusal below holds for a minute, far longer than the test.
    const fresh = await startConnectorServer({ AUTH_FAILURES_PER_MINUTE: "1" });
    await register(fresh.base);
    const refused = await rawRequest(fresh.http!.port, "POST", "/connector/oauth/register", JSON_HEADERS, JSON.stringify({ redirect_uris: [REDIRECT_URI] }));
    expect(refused.status).toBe(429);
    expect(refused.head).toMatch(/retry-after: \d+/i);
    await fresh.shutdown("test over");
  });

  it("takes authorization requests from an address at the rate of failed logins (each keeps an interaction)", async () => {
    const fresh = await startConnectorServer({ AUTH_FAILURES_PER_MINUTE: "1" });
    const url = new URL(authorizationUrl(fresh.base, { client_id: "unknown-client", redirect_uri: REDIRECT_URI }));
    expect((await rawRequest(fresh.http!.port, "GET", `${url.pathname}${url.search}`, {})).status).not.toBe(429);
    const refused = await rawRequest(fresh.http!.port, "GET", `${url.pathname}${url.search}`, {});
    expect(refused.status).toBe(429);
    await fresh.shutdown("test over");
  });

  it("never fetches a sector_identifier_uri, and fetches metadata documents within a budget per address", async () => {
    const fetched: string[] = [];
    const counting = (input: string | URL | Request) => {
      fetched.push(String(input));
      return Promise.resolve(new Response("not here", { status: 404 }));
    };
    const fresh = await startConnectorServer({ AUTH_FAILURES_PER_MINUTE: "100", CLIENT_IP_HEADER: "fly-client-ip" }, { connectorFetch: counting as never });
    const port = fresh.http!.port;
    // A registration naming a document the server would fetch without end, had it fetched it.
    await rawRequest(
      port,
      "POST",
      "/connector/oauth/register",
      { ...JSON_HEADERS, "fly-client-ip": "198.51.100.1" },
      JSON.stringify({ redirect_uris: [REDIRECT_URI], sector_identifier_uri: "https://client.test/sector.json" }),
    );
    expect(fetched).toEqual([]);
    // Client ID metadata documents: five a minute for one address, whatever else it tries; another address still gets its own.
    const authorize = (address: string, i: number) => {
      const url = new URL(authorizationUrl(fresh.base, { client_id: `https://client.test/junk-${i}`, redirect_uri: REDIRECT_URI }));
      return rawRequest(port, "GET", `${url.pathname}${url.search}`, { "fly-client-ip": address });
    };
    for (let i = 0; i < 8; i++) await authorize("198.51.100.1", i);
    expect(fetched).toHaveLength(5);
    await authorize("198.51.100.2", 99);
    expect(fetched.at(-1)).toBe("https://client.test/junk-99");
    await fresh.shutdown("test over");
  });

  it("shows the approval page only to the browser that started the request", async () => {
    const clientServer = await startConnectorServer();
    const client = await register(clientServer.base);
    const page = await openApproval(
      new FormBrowser(),
      authorizationUrl(clientServer.base, {
        client_id: client.client_id,
        redirect_uri: REDIRECT_URI,
        code_challenge: pkce().challenge,
        code_challenge_method: "S256",
      }),
    );
    expect(page.status).toBe(200);
    const other = await fetch(page.url);
    expect(other.status).toBe(400);
    expect(await other.text()).not.toContain(client.client_id);
    await clientServer.shutdown("test over");
  });
});

describe("the connector door while its store is down", () => {
  it("says so with 503 and what to do, and serves what needs no store", async () => {
    const closed = await freePort();
    const server = await startConnectorServer({ DATABASE_URL: `postgres://mcp:secret-pw@127.0.0.1:${closed}/mcp` });
    const port = server.http!.port;
    expect((await rawRequest(port, "GET", "/.well-known/oauth-protected-resource/connector/mcp")).status).toBe(200);
    for (const [method, path, body] of [
      ["GET", "/.well-known/oauth-authorization-server/connector", ""],
      ["POST", "/connector/oauth/register", JSON.stringify({ redirect_uris: [REDIRECT_URI] })],
      ["POST", "/connector/mcp", "{}"],
    ] as const) {
      const answer = await rawRequest(
        port,
        method,
        path,
        { ...JSON_HEADERS, accept: "application/json, text/event-stream", authorization: `Bearer ${"t".repeat(43)}` },
        body,
      );
      expect(answer.status, path).toBe(503);
      expect(answer.head).toMatch(/retry-after: 5/i);
      expect(answer.body).not.toContain("secret-pw");
    }
    await server.shutdown("test over");
  });
});

describe("the owner's list of connected clients", () => {
  let server: ConnectorServer;
  beforeAll(async () => {
    server = await startConnectorServer({ HOST: "0.0.0.0", PORT: String(await freePort()), AUTH_FAILURES_PER_MINUTE: "1000" });
  });
  afterAll(() => server.shutdown("test over"));

  it("answers a loopback socket with the owner password, and no one else", async () => {
    const { client } = await connect(server.base);
    const owner = (password?: string) => fetch(`${server.base}/connector/clients`, { headers: password ? { authorization: `Bearer ${password}` } : {} });
    const listed = await owner(OWNER_PASSWORD);
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { clients: Array<{ clientId: string }> }).clients.map((c) => c.clientId)).toContain(client.client_id);
    expect((await owner()).status).toBe(401);
    expect((await owner(STATIC_TOKEN)).status).toBe(401);
    // Through a proxy on this machine (loopback socket, a proxy's header): as from outside.
    for (const header of ["x-forwarded-for", "forwarded", "x-real-ip", "via"]) {
      const proxied = await fetch(`${server.base}/connector/clients`, { headers: { authorization: `Bearer ${OWNER_PASSWORD}`, [header]: "203.0.113.9" } });
      expect(proxied.status, header).toBe(404);
    }
    const outside = Object.values(networkInterfaces())
      .flat()
      .find((address) => address?.family === "IPv4" && !address.internal)?.address;
    if (!outside) return console.warn("SKIPPED the non-loopback half: this machine has no non-loopback IPv4 address");
    // The same request (to an allowed name), from this machine's other address: as from anywhere outside, nothing is there.
    const fromOutside = await new Promise<number>((resolve, reject) =>
      http
        .get(
          {
            host: outside,
            port: server.http!.port,
            path: "/connector/clients",
            headers: { host: new URL(server.base).host, authorization: `Bearer ${OWNER_PASSWORD}` },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        )
        .on("error", reject),
    );
    expect(fromOutside).toBe(404);
  });
});
