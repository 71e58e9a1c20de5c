import { createHash, randomBytes } from "node:crypto";
import type { OAuthClientProvider } from "@modelcontextprotocol/sdk/client/auth.js";
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from "@modelcontextprotocol/sdk/shared/auth.js";
import type { Seams } from "../../src/services/services.js";
import { hashId } from "../../src/state/oauthRecords.js";
import { freePort } from "./ports.js";
import { startTestServer, type TestServer } from "./server.js";

export const OWNER_PASSWORD = "owner-password-0123456789";
export const STATIC_TOKEN = "static-door-token-0123456789";
export const REDIRECT_URI = "https://client.example/callback";
export const MCP_HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };
export const INITIALIZE = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } },
});

export type ConnectorServer = TestServer & { base: string; door: string };

/** A server with both doors: the static token, and the connector (PUBLIC_URL is its own loopback address). */
export async function startConnectorServer(env: Record<string, string> = {}, seams: Seams = {}): Promise<ConnectorServer> {
  const port = env.PORT ?? String(await freePort());
  const server = await startTestServer(
    { PORT: port, PUBLIC_URL: `http://127.0.0.1:${port}`, CONNECTOR_OWNER_PASSWORD: OWNER_PASSWORD, MCP_AUTH_TOKEN: STATIC_TOKEN, ...env },
    seams,
  );
  return Object.assign(server, { base: server.url, door: `${server.url}/connector/mcp` });
}

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

export type Registered = { client_id: string; client_secret?: string; redirect_uris: string[]; token_endpoint_auth_method: string };

/** Dynamic client registration (RFC 7591), as a connector does it. */
export async function register(base: string, metadata: Record<string, unknown> = {}): Promise<Registered> {
  const response = await fetch(`${base}/connector/oauth/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      client_name: "Test connector",
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      ...metadata,
    }),
  });
  if (response.status !== 201) throw new Error(`registration failed: ${response.status} ${await response.text()}`);
  return (await response.json()) as Registered;
}

export function authorizationUrl(base: string, params: Record<string, string | undefined>): string {
  const query = new URLSearchParams(
    Object.entries({ response_type: "code", state: "state-1", ...params }).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  return `${base}/connector/oauth/authorize?${query}`;
}

export type TokenAnswer = { status: number; json: Record<string, string | number | undefined> };

export async function tokenRequest(base: string, params: Record<string, string>, client?: Registered): Promise<TokenAnswer> {
  const body = new URLSearchParams({
    ...params,
    ...(client && { client_id: client.client_id }),
    ...(client?.client_secret && { client_secret: client.client_secret }),
  });
  const response = await fetch(`${base}/connector/oauth/token`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body });
  return { status: response.status, json: (await response.json()) as TokenAnswer["json"] };
}

/**
 * A browser without script, for the approval page: keeps cookies (by name; the server's paths
 * never collide), never follows a redirect by itself.
 */
export class FormBrowser {
  readonly cookies = new Map<string, string>();

  async get(url: string | URL, headers: Record<string, string> = {}): Promise<Response> {
    return this.keep(await fetch(url, { redirect: "manual", headers: { ...headers, cookie: this.cookieHeader() } }));
  }

  async post(url: string | URL, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
    return this.keep(
      await fetch(url, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", ...headers, cookie: this.cookieHeader() },
        body: new URLSearchParams(form),
      }),
    );
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  private keep(response: Response): Response {
    for (const cookie of response.headers.getSetCookie()) {
      const pair = cookie.split(";")[0]!;
      this.cookies.set(pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1));
    }
    return response;
  }
}

export type ApprovalPage = { url: URL; status: number; html: string; csrf: string; action: URL };

/** Opens an authorization URL and lands on the approval page (or on what the server answered instead). */
export async function openApproval(browser: FormBrowser, authorizeUrl: string, headers: Record<string, string> = {}): Promise<ApprovalPage> {
  const first = await browser.get(authorizeUrl, headers);
  const location = first.headers.get("location");
  if (first.status !== 303 || !location) throw new Error(`expected the approval page, got ${first.status} ${await first.text()}`);
  const url = new URL(location, authorizeUrl);
  const page = await browser.get(url, headers);
  const html = await page.text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
  const action = new URL((/action="([^"]+)"/.exec(html)?.[1] ?? url.pathname).replace(/&amp;/g, "&"), url);
  return { url, status: page.status, html, csrf, action };
}

/** Submits the approval form and follows the server's redirects to where it sends the client. */
export async function submitApproval(
  browser: FormBrowser,
  page: ApprovalPage,
  form: Record<string, string>,
): Promise<{ status: number; location: URL | undefined; html: string }> {
  const posted = await browser.post(page.action, form, { origin: page.action.origin });
  if (posted.status !== 303) return { status: posted.status, location: undefined, html: await posted.text() };
  const resumed = await browser.get(new URL(posted.headers.get("location")!, page.action));
  const location = resumed.headers.get("location");
  return { status: resumed.status, location: location ? new URL(location, page.action) : undefined, html: location ? "" : await resumed.text() };
}

/** The owner approves the request at `authorizeUrl`; returns the URL the client is sent back to (code or error). */
export async function approve(authorizeUrl: string, password = OWNER_PASSWORD): Promise<URL> {
  const browser = new FormBrowser();
  const page = await openApproval(browser, authorizeUrl);
  const result = await submitApproval(browser, page, { csrf: page.csrf, password, decision: "approve" });
  if (!result.location) throw new Error(`approval did not redirect: ${result.status} ${result.html.slice(0, 500)}`);
  return result.location;
}

export type Tokens = { access_token: string; refresh_token: string; expires_in: number; scope: string };

/** A whole connection as a connector makes it, without the SDK: registration, PKCE, approval, token. */
export async function connect(
  base: string,
  options: { scope?: string; resource?: string | null; metadata?: Record<string, unknown> } = {},
): Promise<{ client: Registered; tokens: Tokens }> {
  const client = await register(base, options.metadata);
  const { verifier, challenge } = pkce();
  const resource = options.resource === null ? undefined : (options.resource ?? `${base}/connector/mcp`);
  const back = await approve(
    authorizationUrl(base, {
      client_id: client.client_id,
      redirect_uri: REDIRECT_URI,
      code_challenge: challenge,
      code_challenge_method: "S256",
      resource,
      scope: options.scope,
    }),
  );
  const code = back.searchParams.get("code");
  if (!code) throw new Error(`no code: ${back}`);
  const answer = await tokenRequest(
    base,
    { grant_type: "authorization_code", code, redirect_uri: REDIRECT_URI, code_verifier: verifier, ...(resource && { resource }) },
    client,
  );
  if (answer.status !== 200) throw new Error(`token request failed: ${JSON.stringify(answer.json)}`);
  return { client, tokens: answer.json as unknown as Tokens };
}

/**
 * Makes an access token expire now, as time would: its stored expiry is moved into the past (the
 * stored record is found by the token's hash, as the server finds it).
 */
export async function expireAccessToken(server: TestServer, token: string): Promise<void> {
  const past = Math.floor(Date.now() / 1000) - 60;
  const rows = await server.services.state.use((db) =>
    db.query(
      "update oauth_records set payload = jsonb_set(payload, '{exp}', to_jsonb($1::integer)) where kind = 'AccessToken' and id_hash = $2 returning kind",
      [past, hashId(token)],
    ),
  );
  if (rows.length !== 1) throw new Error("no such access token");
}

export async function initializeAt(url: string, token: string | undefined): Promise<Response> {
  return fetch(url, { method: "POST", headers: { ...MCP_HEADERS, ...(token && { authorization: `Bearer ${token}` }) }, body: INITIALIZE });
}

/** The MCP SDK client's OAuth hooks, kept in memory; the authorization URL it would open is kept for the test. */
export class MemoryOAuthProvider implements OAuthClientProvider {
  authorizationUrl: URL | undefined;
  private client: OAuthClientInformationMixed | undefined;
  private saved: OAuthTokens | undefined;
  private verifier = "";

  constructor(
    readonly redirectUrl: string,
    readonly clientMetadata: OAuthClientMetadata,
    readonly clientMetadataUrl?: string,
  ) {}

  clientInformation() {
    return this.client;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.client = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
}
